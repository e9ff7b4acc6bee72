/** Built-in defaults: what an agent gets for every field the file leaves out. */
import { join } from 'node:path';
import type { RawAgent } from './raw.js';

export const DEFAULT_NAME_PREFIX = 'claude-agent-';

/** Relative to the config file's directory. */
export const DEFAULT_RUNTIME_DIR = './evanai_runtime';

/** Where the agent's working directory is mounted in its container. */
export const AGENT_WORK_DIR = '/mnt';

/** Under runtimeDir: agent N's working directory is <runtimeDir>/agent-working-directory/N. */
export const WORKDIRS = 'agent-working-directory';

export function workDirOf(runtimeDir: string, agentId: string): string {
  return join(runtimeDir, WORKDIRS, agentId);
}

/** Variables every agent gets before its own env; AGENT_ID and AGENT_WORK_DIR are set after it. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  TMPDIR: '/tmp/agent',
  PYTHONPATH: AGENT_WORK_DIR,
};

/**
 * The defaults table, written as it would be in agents.yaml. `command`, `user` and `runtime` have
 * no entry: leaving them out means the image's (or engine's) own default.
 */
export const DEFAULT_AGENT: Readonly<RawAgent> = Object.freeze({
  image: 'claude-agent:latest',
  env: {},
  memory: '2g',
  cpus: 2,
  // The process limit is the container's own pids cgroup. No `nproc` ulimit: the kernel counts it per
  // host uid across every container (and host process) of that uid, so with agents sharing a uid one
  // agent's processes would use up every other agent's allowance.
  pids: 1024,
  ulimits: { nofile: { soft: 1024, hard: 2048 } },
  tmpfs: { '/tmp/agent': '100m', '/home/agent/.cache': '50m' },
  readOnly: true,
  network: 'bridge',
  capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'SETGID', 'SETUID'] },
  noNewPrivileges: true,
  init: true,
  logs: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  restart: 'unless-stopped',
  state: 'running',
  labels: {},
  replicas: 1,
});

/**
 * The default `pids` of an agent under gVisor (a runtime named runsc, as gVisor registers itself). There
 * the pids cgroup counts the sandbox's own threads too: about 40-70 idle and ~8 more for each process in
 * the agent (measured: 38 idle, 815 with 100 sleeping processes), and reaching the limit kills the whole
 * sandbox. 8192 leaves room for about the 1024 processes the runc default allows.
 */
export const GVISOR_DEFAULT_PIDS = 8192;

/**
 * Whether a runtime's name is gVisor's (runsc, runsc-debug...): all the file can know of it. A gVisor
 * registered under another name, or the engine's default runtime, only the engine knows: preflight
 * refuses such an agent left with the runc default (see DesiredState.builtInPids).
 */
export function isGvisorName(runtime: string | undefined): boolean {
  return runtime !== undefined && /^runsc\b/.test(runtime);
}
