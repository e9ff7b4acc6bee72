/**
 * The Pod Security Standards' checks (kubernetes.io/docs/concepts/security/pod-security-standards),
 * written from the published rules for the fields a rendered pod can carry, so that tests can say which
 * level a manifest meets without a cluster. Independent of the renderer on purpose.
 */
export type PodSecurityLevel = 'baseline' | 'restricted';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/** The violations of `level` by a pod spec (empty: it passes). */
export function podSecurityViolations(pod: Obj, level: PodSecurityLevel): string[] {
  const out: string[] = [];
  const containers: Obj[] = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[f]) out.push(`${f}: true`);
  for (const v of pod.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
  const podSc = pod.securityContext ?? {};
  if (podSc.seccompProfile?.type === 'Unconfined') out.push('pod seccompProfile Unconfined');
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${c.name}: privileged`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (!BASELINE_CAPS.has(cap)) out.push(`${c.name}: adds capability ${cap}`);
    }
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${c.name}: hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== 'Default') out.push(`${c.name}: procMount ${sc.procMount}`);
    if (sc.seccompProfile?.type === 'Unconfined') out.push(`${c.name}: seccompProfile Unconfined`);
  }
  if (level === 'baseline') return out;

  for (const v of pod.volumes ?? []) {
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    if (!kinds.every((k) => RESTRICTED_VOLUMES.includes(k))) out.push(`volume ${v.name}: ${kinds.join(',')}`);
  }
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation not false`);
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${c.name}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${c.name}: no seccompProfile`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${c.name}: does not drop ALL`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE')
        out.push(`${c.name}: restricted adds only NET_BIND_SERVICE, not ${cap}`);
    }
  }
  return out;
}
