/**
 * Host-wide limits a large fleet runs into, read from this machine (the engine runs here: working
 * directories are bind mounts of this host's disk), and the warnings apply prints before it starts
 * agents that would run into them. Warnings, not refusals: these are limits of the whole host, shared
 * with everything else running on it, and only estimates of what each agent costs. (A network's bridge
 * ports and addresses are counts, not estimates: preflight refuses those, see network-room.ts.)
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { AgentSpec } from '../types.js';
import { readPidMax, readProcNumber, softOpenFiles } from '../util/proc-number.js';
import { CONTAINERD_FDS_PER_AGENT, DOCKERD_FDS_PER_AGENT, SHIM_FDS_PER_AGENT } from './engine-descriptors.js';

/** The system's file handles one agent takes (see engine-descriptors.ts). */
const FDS_PER_AGENT = SHIM_FDS_PER_AGENT + DOCKERD_FDS_PER_AGENT + CONTAINERD_FDS_PER_AGENT;

export interface HostLimits {
  /** kernel.pid_max: every process and thread of the host, containers' included, takes one. */
  pidMax?: number;
  /** Tasks (processes and threads) that exist now. */
  tasks?: number;
  /** Bytes of memory available (MemAvailable). */
  memAvailableBytes?: number;
  /** This process's open-file limit, and the system's. */
  nofile?: number;
  fileMax?: number;
  /** File handles the system has allocated now (fs.file-nr's first figure), against fileMax. */
  fileNr?: number;
  inotifyWatches?: number;
  inotifyInstances?: number;
  /** CPUs this process may run on (the engine's host: see the header). */
  cpus?: number;
}

/**
 * What one idle agent costs the host, measured with the busybox image (scripts/bench-scale.mjs): about
 * 12 tasks (its shim's threads, init, its process) and about 5 MiB of engine memory (shim, dockerd and
 * containerd bookkeeping), before anything the agent itself runs.
 */
export const TASKS_PER_AGENT = 12;
export const ENGINE_BYTES_PER_AGENT = 5 * 1024 * 1024;

/**
 * Engine CPU of one health probe (an exec through the engine: dockerd, the shim, runc): 1000 busybox
 * agents probing every 5 min took 62 % of a core of the engine's processes while they idled
 * (scripts/bench-scale.mjs, engine idle CPU). The cost is per probe, whatever the probe runs.
 */
export const PROBE_ENGINE_CPU_MS = 185;
/** The share of the host's CPUs the fleet's probes may take before apply says so. */
const PROBE_CPU_SHARE = 0.1;

export async function hostLimits(): Promise<HostLimits> {
  const [pidMax, fileMax, fileNr, inotifyWatches, inotifyInstances, meminfo, limits] = await Promise.all([
    readPidMax(),
    readProcNumber('/proc/sys/fs/file-max'),
    readProcNumber('/proc/sys/fs/file-nr'),
    readProcNumber('/proc/sys/fs/inotify/max_user_watches'),
    readProcNumber('/proc/sys/fs/inotify/max_user_instances'),
    fs.readFile('/proc/meminfo', 'utf8').catch(() => ''),
    fs.readFile('/proc/self/limits', 'utf8').catch(() => ''),
  ]);
  const avail = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  const nofile = softOpenFiles(limits);
  return {
    pidMax,
    tasks: await countTasks(),
    memAvailableBytes: avail ? Number(avail[1]) * 1024 : os.freemem(),
    ...(nofile !== undefined ? { nofile } : {}),
    fileMax,
    fileNr,
    inotifyWatches,
    inotifyInstances,
    cpus: os.availableParallelism(),
  };
}

/**
 * Every task (process and thread) of the host, from /proc/loadavg's `running/total`: one read, where
 * counting /proc/PID/task directories was one readdir per process (over 2000 with a 1000-agent fleet: a
 * shim and an init each), and saw only its own pid namespace's processes while pid_max counts the host's.
 */
async function countTasks(): Promise<number | undefined> {
  return tasksOfLoadavg(await fs.readFile('/proc/loadavg', 'utf8').catch(() => ''));
}

/** The total of `running/total` in /proc/loadavg's text (`0.92 6.02 9.75 2/3677 12345`). */
export function tasksOfLoadavg(text: string): number | undefined {
  const total = /^\S+ \S+ \S+ \d+\/(\d+) /.exec(text)?.[1];
  return total === undefined ? undefined : Number(total);
}

/**
 * What starting `starting` more agents (beside `running` of this project already up) would run into.
 * Pure: the limits are read by the caller.
 */
export function hostLimitWarnings(
  limits: HostLimits,
  starting: readonly AgentSpec[],
  fleet: readonly AgentSpec[],
): string[] {
  const out: string[] = [];
  const k = starting.length;
  if (k === 0) return out;
  if (limits.pidMax !== undefined && limits.tasks !== undefined) {
    const after = limits.tasks + k * TASKS_PER_AGENT;
    if (after > limits.pidMax * 0.9) {
      out.push(
        `host process table: ${limits.tasks} tasks now, about ${after} after starting ${k} agent(s), of kernel.pid_max ${limits.pidMax}; new processes (in agents and on the host) will fail to start. Raise it (sysctl -w kernel.pid_max=4194304)`,
      );
    }
    const pidsSum = fleet.reduce((sum, a) => sum + a.pids, 0);
    if (pidsSum > limits.pidMax) {
      out.push(
        `host process table: the fleet's pids limits add up to ${pidsSum}, more than kernel.pid_max ${limits.pidMax}: agents forking to their limits together can exhaust the host's process table (each agent's own limit still holds). Raise kernel.pid_max (sysctl -w kernel.pid_max=4194304) or lower pids`,
      );
    }
  }
  if (limits.fileMax !== undefined && limits.fileNr !== undefined) {
    const after = limits.fileNr + k * FDS_PER_AGENT;
    if (after > limits.fileMax * 0.9) {
      out.push(
        `host open files: ${limits.fileNr} file handles open now, about ${after} after starting ${k} agent(s) (${FDS_PER_AGENT} each: shim, dockerd, containerd), of fs.file-max ${limits.fileMax}; opening files will fail host-wide. Raise it (sysctl -w fs.file-max=${Math.max(limits.fileMax * 2, after * 2)})`,
      );
    }
  }
  const probes = probeCpu(fleet);
  if (limits.cpus !== undefined && probes.cores > limits.cpus * PROBE_CPU_SHARE) {
    const pct = (x: number) => `${Math.round(x * 100)} %`;
    out.push(
      `engine CPU: the health probes of ${probes.agents} running agent(s) (each ${PROBE_ENGINE_CPU_MS} ms of engine CPU) take about ${pct(probes.cores)} of a core, ${pct(probes.cores / limits.cpus)} of this host's ${limits.cpus} CPU(s), even while every agent idles. Probe less often (healthcheck: { interval: 30m }) or not at all (healthcheck: none) where a probe tells little`,
    );
  }
  if (limits.memAvailableBytes !== undefined && k * ENGINE_BYTES_PER_AGENT > limits.memAvailableBytes) {
    out.push(
      `host memory: ${Math.round(limits.memAvailableBytes / 2 ** 20)} MiB available; the engine alone needs about ${Math.round((k * ENGINE_BYTES_PER_AGENT) / 2 ** 20)} MiB for ${k} more agent(s), before what they run`,
    );
  }
  return out;
}

/** What the running agents' own probes cost the engine, in cores (an image's HEALTHCHECK is not known). */
function probeCpu(fleet: readonly AgentSpec[]): { agents: number; cores: number } {
  let agents = 0;
  let cores = 0;
  for (const a of fleet) {
    if (a.state !== 'running' || typeof a.healthcheck !== 'object') continue;
    agents++;
    cores += PROBE_ENGINE_CPU_MS / a.healthcheck.intervalMs;
  }
  return { agents, cores };
}
