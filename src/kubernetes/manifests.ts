/**
 * agents.yaml -> Kubernetes manifests, for a cluster instead of one Docker engine. Pure and
 * deterministic (same file, same bytes: commit the output, let Argo CD or Flux apply it).
 *
 * Each agent becomes one `Sandbox` of kubernetes-sigs/agent-sandbox (agents.x-k8s.io/v1beta1: one pod,
 * stable identity, a PersistentVolumeClaim per agent for /mnt), or with `workload: statefulset` a plain
 * StatefulSet of one replica with the same pod and claim. An agent on `network: none` also gets a
 * NetworkPolicy that denies all traffic; an agent with an egress allow-list gets one that allows its
 * CIDR rules only (see egress-policy.ts).
 *
 * Kubernetes cannot express everything a Docker sandbox has (ulimits, a per-pod pids limit, tmpfs
 * noexec/nosuid, a named Docker network, an image built on the local engine, an agent's engine...):
 * each such field is a warning naming the agent and the field, never dropped silently.
 */
import { DOCKER_INIT } from '../config/healthcheck.js';
import { AGENT_WORK_DIR } from '../config/defaults.js';
import type { AgentSpec, DesiredState } from '../types.js';
import { PROXY_ENV } from '../egress/names.js';
import { egressRules } from './egress-policy.js';
import { cpuQuantity, memoryQuantity } from './quantity.js';

export type Workload = 'sandbox' | 'statefulset';

export interface RenderOptions {
  workload: Workload;
  /** Size requested for each agent's /mnt claim (a Kubernetes quantity). */
  storage: string;
  /** storageClassName of the claims; undefined = the cluster's default class. */
  storageClass?: string;
  /** Namespace written into every object; undefined = none (kubectl -n decides). */
  namespace?: string;
}

export interface RenderWarning {
  agent: string;
  /** The agents.yaml field, dotted (`ulimits.nofile`, `tmpfs./tmp/agent`). */
  field: string;
  message: string;
}

/** One agent's objects, in apply order. */
export interface AgentManifests {
  agent: string;
  objects: Record<string, unknown>[];
}

export interface RenderResult {
  agents: AgentManifests[];
  warnings: RenderWarning[];
}

/** The name of the Secret that secret env values are read from (made by the user, never by render). */
export const secretName = (project: string) => `${project}-agent-secrets`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why an agent's name cannot name Kubernetes objects, if it cannot. */
export function nameProblem(spec: AgentSpec): string | undefined {
  // A StatefulSet's pods are <name>-0 and get a controller-revision-hash label: 52 leaves room for both.
  if (!DNS_LABEL.test(spec.name) || spec.name.length > 52) {
    return `container name "${spec.name}" is not a valid Kubernetes object name (lower-case letters, digits and '-', at most 52 characters); set namePrefix or rename the agent`;
  }
  return undefined;
}

export function renderKubernetes(desired: DesiredState, opts: RenderOptions): RenderResult {
  const warnings: RenderWarning[] = [];
  // By id, whatever order the agents come in: the output is committed, so it must not churn.
  const specs = [...desired.agents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // By image, not by agent: an agent naming an image another agent's build: makes has it locally only too.
  const builtImages = new Set(desired.builds.map((b) => b.image));
  const agents = specs.map((spec) => {
    const warn = (field: string, message: string) => warnings.push({ agent: spec.id, field, message });
    dockerOnly(spec, builtImages, warn);
    return { agent: spec.id, objects: agentObjects(desired, spec, opts, warn) };
  });
  return { agents, warnings };
}

type Warn = (field: string, message: string) => void;

/**
 * Where the agent comes from under Docker, which a cluster does not have: an image agentctl builds on
 * the local engine (no node can pull it from there; the manifest names it as is), and the engine of the
 * file's `engines:` the agent is pinned to (the scheduler picks the node).
 */
function dockerOnly(spec: AgentSpec, builtImages: ReadonlySet<string>, warn: Warn): void {
  if (builtImages.has(spec.image)) {
    warn(
      'build',
      `image "${spec.image}" is built by agentctl on the local engine and exists only there, so the cluster's nodes cannot pull it: push it to a registry they can pull from, and set image to the name it has there (the manifest names "${spec.image}" as written)`,
    );
  }
  if (spec.engine !== undefined) {
    warn(
      'engine',
      `${spec.engine}: a cluster has no agentctl engines, and the scheduler places the pod on any node that fits (pin it with a nodeSelector or affinity, added beside the manifests)`,
    );
  }
}

function agentObjects(
  desired: DesiredState,
  spec: AgentSpec,
  opts: RenderOptions,
  warn: Warn,
): Record<string, unknown>[] {
  const labels = sorted({
    ...Object.fromEntries(Object.entries(spec.labels).filter(([k, v]) => validLabel(k, v, warn))),
    'app.kubernetes.io/managed-by': 'agentctl',
    'agentctl.project': desired.project,
    'agentctl.agent': spec.id,
  });
  const metadata = {
    name: spec.name,
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    labels,
  };
  const selector = { 'agentctl.project': desired.project, 'agentctl.agent': spec.id };
  const pod = podSpec(desired, spec, opts, warn);
  const claim = {
    metadata: { name: 'workdir' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(opts.storageClass !== undefined ? { storageClassName: opts.storageClass } : {}),
      resources: { requests: { storage: opts.storage } },
    },
  };
  const objects: Record<string, unknown>[] = [];
  if (opts.workload === 'sandbox') {
    objects.push({
      apiVersion: 'agents.x-k8s.io/v1beta1',
      kind: 'Sandbox',
      metadata,
      spec: {
        podTemplate: { metadata: { labels }, spec: { ...pod, restartPolicy: sandboxRestart(spec) } },
        volumeClaimTemplates: [claim],
        operatingMode: spec.state === 'running' ? 'Running' : 'Suspended',
      },
    });
  } else {
    if (spec.restart !== 'always' && spec.restart !== 'unless-stopped') {
      warn(
        'restart',
        `restart "${spec.restart}" cannot be expressed by a StatefulSet, whose pods always restart (restartPolicy Always); use the Sandbox workload, or restart: always`,
      );
    }
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata,
      spec: {
        replicas: spec.state === 'running' ? 1 : 0,
        serviceName: spec.name,
        selector: { matchLabels: selector },
        template: { metadata: { labels }, spec: { ...pod, restartPolicy: 'Always' } },
        volumeClaimTemplates: [claim],
        // The claim outlives the pod and the StatefulSet: an agent's data is never deleted by accident.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      },
    });
  }
  if (spec.network === 'none') {
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { ...metadata, name: `${spec.name}-no-network` },
      spec: { podSelector: { matchLabels: selector }, policyTypes: ['Ingress', 'Egress'] },
    });
  }
  if (spec.egress) {
    const { egress, warnings } = egressRules(spec.egress);
    for (const w of warnings) warn(w.field, w.message);
    // Ingress is denied too: under Docker a policy agent sits on an internal network nothing else joins.
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { ...metadata, name: `${spec.name}-egress` },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        ...(egress.length > 0 ? { egress } : {}),
      },
    });
  }
  return objects;
}

function sandboxRestart(spec: AgentSpec): string {
  if (spec.restart === 'on-failure') return 'OnFailure';
  if (spec.restart === 'no') return 'Never';
  return 'Always';
}

function podSpec(
  desired: DesiredState,
  spec: AgentSpec,
  opts: RenderOptions,
  warn: Warn,
): Record<string, unknown> {
  const user = numericUser(spec, warn);
  const tmpfsMounts = Object.entries(spec.tmpfs).sort(([a], [b]) => a.localeCompare(b));
  const volumes = tmpfsMounts.map(([mount, options], i) => {
    const size = /(?:^|,)size=([^,]+)/.exec(options)?.[1];
    const lost = options
      .split(',')
      .filter((o) => ['noexec', 'nosuid', 'nodev'].includes(o) || /^mode=/.test(o));
    if (lost.length > 0) {
      warn(
        `tmpfs.${mount}`,
        `${lost.join(', ')} cannot be expressed by an emptyDir (medium: Memory): the mount is writable and executable by the agent`,
      );
    }
    return {
      name: `tmpfs-${i}`,
      emptyDir: { medium: 'Memory', ...(size !== undefined ? { sizeLimit: tmpfsSize(size) } : {}) },
    };
  });
  const container: Record<string, unknown> = {
    name: 'agent',
    image: spec.image,
    ...(spec.command !== undefined ? { args: [...spec.command] } : {}),
    workingDir: AGENT_WORK_DIR,
    env: envVars(desired, spec, warn),
    resources: {
      limits: { cpu: cpuQuantity(spec.nanoCpus), memory: memoryQuantity(spec.memoryBytes) },
    },
    securityContext: containerSecurity(spec, user),
    volumeMounts: [
      { name: 'workdir', mountPath: AGENT_WORK_DIR },
      ...tmpfsMounts.map(([mount], i) => ({ name: `tmpfs-${i}`, mountPath: mount })),
    ],
  };
  const probe = livenessProbe(spec, warn);
  if (probe !== undefined) container.livenessProbe = probe;
  unexpressible(spec, warn);
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(spec.network === 'host' ? { hostNetwork: true } : {}),
    ...(spec.runtime !== undefined ? { runtimeClassName: spec.runtime } : {}),
    // The pause container is then PID 1 and reaps zombies: what Docker's init does.
    ...(spec.init ? { shareProcessNamespace: true } : {}),
    securityContext: {
      // The claim's group, so that the agent can write /mnt (under Docker agentctl gives the directory to
      // the agent's user). Without a GID the uid stands for it: the kubelet makes the volume group-writable
      // by fsGroup and adds fsGroup to the process's groups, whatever its primary group is.
      ...(user !== undefined ? { fsGroup: user.gid ?? user.uid } : {}),
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [container],
    volumes,
  };
}

function containerSecurity(spec: AgentSpec, user: NumericUser | undefined): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: !spec.noNewPrivileges,
    capabilities: {
      ...(spec.capAdd.length > 0 ? { add: [...spec.capAdd].sort() } : {}),
      drop: [...spec.capDrop].sort(),
    },
    readOnlyRootFilesystem: spec.readOnly,
    ...(user?.uid !== 0 ? { runAsNonRoot: true } : {}),
    ...(user !== undefined ? { runAsUser: user.uid } : {}),
    ...(user?.gid !== undefined ? { runAsGroup: user.gid } : {}),
  };
}

interface NumericUser {
  uid: number;
  gid?: number;
}

/**
 * Kubernetes takes numeric ids only; a name (or the image's user) is warned about, and so is what it
 * costs: without a uid there is no fsGroup to make the claim writable.
 */
function numericUser(spec: AgentSpec, warn: Warn): NumericUser | undefined {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec.user ?? '');
  if (m) return { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
  warn(
    'user',
    spec.user === undefined
      ? "not set: the pod runs as the image's user with no fsGroup, so /mnt may not be writable by it, and runAsNonRoot makes the kubelet refuse an image whose user is root or a name; set user to a numeric uid[:gid]"
      : `"${spec.user}" is a name, and Kubernetes takes numeric ids only: the pod runs as the image's user under runAsNonRoot, with no fsGroup, so /mnt may not be writable by it; set user to a numeric uid[:gid]`,
  );
  return undefined;
}

function envVars(desired: DesiredState, spec: AgentSpec, warn: Warn): Record<string, unknown>[] {
  const secret = spec.secretEnv ?? {};
  // The egress gateway exists only under Docker: its proxy variables would point the pod at nothing.
  const gatewayProxy = Object.keys(PROXY_ENV)
    .filter((name) => spec.egress !== undefined && spec.env[name] === PROXY_ENV[name])
    .sort();
  if (gatewayProxy.length > 0) {
    warn(
      'egress',
      `the egress gateway exists only under Docker: its proxy variables (${gatewayProxy.join(', ')}) are left out, and the pod reaches what its NetworkPolicy allows directly`,
    );
  }
  const names = [...new Set([...Object.keys(spec.env), ...Object.keys(secret)])]
    .filter((name) => !gatewayProxy.includes(name))
    .sort();
  return names.map((name) => {
    const ref = secret[name];
    if (!ref) return { name, value: spec.env[name] };
    // The value never goes into a manifest: it is read from a Secret the cluster's owner makes.
    warn(
      `env.${name}`,
      `a secret (${ref.ref}): the manifest reads it from key "${spec.id}.${name}" of Secret "${secretName(desired.project)}", which you create in the cluster`,
    );
    return {
      name,
      valueFrom: { secretKeyRef: { name: secretName(desired.project), key: `${spec.id}.${name}` } },
    };
  });
}

/** Fields with no Kubernetes equivalent at all. */
function unexpressible(spec: AgentSpec, warn: Warn): void {
  for (const [name, u] of Object.entries(spec.ulimits).sort(([a], [b]) => a.localeCompare(b))) {
    warn(
      `ulimits.${name}`,
      `${u.soft}:${u.hard} cannot be expressed in a pod: the container gets the node's container runtime default`,
    );
  }
  warn(
    'pids',
    `${spec.pids} cannot be expressed per pod: the node's kubelet sets one limit for every pod (--pod-max-pids / podPidsLimit)`,
  );
  warn(
    'logs',
    `driver ${spec.logs.driver} cannot be expressed in a pod: the kubelet rotates container logs (containerLogMaxSize, containerLogMaxFiles)`,
  );
  // A policy agent's network is the project's egress network: its NetworkPolicy stands for it.
  if (spec.network !== 'none' && spec.network !== 'bridge' && spec.network !== 'host' && !spec.egress) {
    warn(
      'network',
      `"${spec.network}" is a Docker network, which has no Kubernetes equivalent: the pod is on the cluster network (add a NetworkPolicy to fence it)`,
    );
  }
  if (spec.network === 'host') {
    warn(
      'network',
      "host: the pod shares the node's network (hostNetwork: true), which Pod Security baseline forbids",
    );
  }
  const restricted = spec.capAdd.filter((c) => c !== 'NET_BIND_SERVICE');
  if (restricted.length > 0) {
    warn(
      'capabilities.add',
      `${restricted.join(', ')}: Pod Security "restricted" allows adding only NET_BIND_SERVICE, so a namespace enforcing restricted refuses this pod ("baseline" allows them)`,
    );
  }
}

function validLabel(key: string, value: string, warn: Warn): boolean {
  const name = key.split('/').pop() ?? '';
  const ok =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(
      key,
    ) &&
    name.length <= 63 &&
    /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value) &&
    value.length <= 63;
  if (!ok) warn(`labels.${key}`, `"${key}: ${value}" is not a valid Kubernetes label: left out`);
  return ok;
}

/** A tmpfs size (Docker's `100m`, bytes) as a Kubernetes quantity. */
function tmpfsSize(size: string): string {
  const m = /^(\d+)([kmg]?)$/i.exec(size);
  if (!m) return size;
  const unit = (m[2] ?? '').toLowerCase();
  const bytes =
    Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  return memoryQuantity(bytes);
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The healthcheck as a livenessProbe (exec; Kubernetes counts in whole seconds, so durations are rounded
 * up). The default probe runs the engine's init, which a pod does not have, and `image` means the image's
 * HEALTHCHECK, which Kubernetes ignores: both are warnings, never a probe that cannot run.
 */
function livenessProbe(spec: AgentSpec, warn: Warn): Record<string, unknown> | undefined {
  const hc = spec.healthcheck;
  if (hc === 'none') return undefined;
  if (hc === 'image') {
    warn('healthcheck', "image: Kubernetes ignores an image's HEALTHCHECK; no livenessProbe is rendered");
    return undefined;
  }
  if (Array.isArray(hc.command) && hc.command[0] === DOCKER_INIT) {
    warn(
      'healthcheck',
      `the default probe runs the engine's init (${DOCKER_INIT}), which a pod does not have; no livenessProbe is rendered (give a command to get one)`,
    );
    return undefined;
  }
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    exec: { command: Array.isArray(hc.command) ? [...hc.command] : ['/bin/sh', '-c', hc.command] },
    periodSeconds: seconds(hc.intervalMs),
    timeoutSeconds: seconds(hc.timeoutMs),
    failureThreshold: hc.retries,
    ...(hc.startPeriodMs > 0 ? { initialDelaySeconds: Math.ceil(hc.startPeriodMs / 1000) } : {}),
  };
}
