/**
 * Capability rules. Agents start from nothing (drop ALL) and may add back only capabilities that
 * Docker grants every container by default: anything else would give an agent more power over the
 * host than a plain `docker run`, which is the line this tool never crosses.
 */

/** Docker's default capability set: the only ones an agent may add. */
export const ADDABLE_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

/** What agentctl adds by default; adding anything beyond these is worth a warning. */
export const BASELINE_CAPABILITIES: readonly string[] = ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID'];

/** Every Linux capability, so that a typo in `drop` is caught here rather than by the engine. */
export const LINUX_CAPABILITIES: ReadonlySet<string> = new Set([
  ...ADDABLE_CAPABILITIES,
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'DAC_READ_SEARCH',
  'IPC_LOCK',
  'IPC_OWNER',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'NET_ADMIN',
  'NET_BROADCAST',
  'PERFMON',
  'SYSLOG',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
]);

/** `cap_net_raw` -> `NET_RAW`. */
export function canonicalCapability(name: string): string {
  return name.toUpperCase().replace(/^CAP_/, '');
}

/** Canonical, deduplicated, sorted. */
export function normalizeCapabilities(names: readonly string[]): string[] {
  return [...new Set(names.map(canonicalCapability))].sort();
}

export function addCapabilityProblem(name: string): string | undefined {
  const cap = canonicalCapability(name);
  if (ADDABLE_CAPABILITIES.includes(cap)) return undefined;
  const allowed = `only Docker's default capabilities may be added (${ADDABLE_CAPABILITIES.join(', ')})`;
  if (cap === 'ALL') return `cannot add ALL capabilities: ${allowed}`;
  if (!LINUX_CAPABILITIES.has(cap)) return `unknown capability "${name}"`;
  return `capability ${cap} cannot be added: it is not in Docker's default set and would weaken the container's isolation from the host; ${allowed}`;
}

export function dropCapabilityProblem(name: string): string | undefined {
  const cap = canonicalCapability(name);
  return cap === 'ALL' || LINUX_CAPABILITIES.has(cap) ? undefined : `unknown capability "${name}"`;
}
