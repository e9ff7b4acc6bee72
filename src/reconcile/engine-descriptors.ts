/**
 * The engine's open files: every agent costs dockerd and containerd descriptors (its log pipes, its
 * shim's connections, its task's state), and a dockerd started from a shell with the common limit of
 * 1024 or 4096 open files fails well before 1000 agents ("too many open files"). Read for an engine that
 * runs on this host, reached at a unix socket here; an estimate, so apply warns (as for the process
 * table and memory, host-limits.ts) rather than refuses.
 */
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SOCKET } from '../docker/engine-address.js';
import { someOf } from '../render/some-of.js';
import type { AgentSpec } from '../types.js';
import { openFilesLimits } from '../util/proc-number.js';

/**
 * Descriptors one idle agent adds, measured with the busybox test image (50 agents on the default
 * bridge, sleep 3600; `ls /proc/PID/fd | wc -l` before and after, twice, on a shared engine): dockerd
 * 5.7-5.9 and containerd 3.9-4.0 per container, its shim 26.0. bench-scale's 1000-agent run measured
 * dockerd 6.9 and containerd 4.8 (6942 and 4776 descriptors): the larger figures are kept, as the
 * warning is about large fleets. A shim's own descriptors count against its own limit, not the
 * engine's; they count against the system's (fs.file-max), as do the others.
 */
export const DOCKERD_FDS_PER_AGENT = 7;
export const CONTAINERD_FDS_PER_AGENT = 5;
export const SHIM_FDS_PER_AGENT = 26;

/** One process of an engine, with its open descriptors now and its soft limit. */
export interface EngineProcess {
  name: 'dockerd' | 'containerd';
  pid: number;
  fds: number;
  /** Its soft "Max open files" (undefined: unlimited, or unreadable). */
  softLimit?: number;
  /** Its hard one: what the processes it starts (containerd's: the shims, runc, the agents) may raise theirs to. */
  hardLimit?: number;
}

export interface EngineProc {
  pid: number;
  comm: string;
  ppid: number;
  args: string[];
}

/** What was read of dockerd and containerd processes: /proc/*\/comm is scanned once for every engine. */
export type EngineProcs = readonly EngineProc[];

export async function engineProcs(): Promise<EngineProcs> {
  // Read one by one, synchronously: a host of 5000 processes was read in 0.9 s so, under a load of 150
  // on 2 cores, against 3-8 s for the same reads in parallel (each an open, stat, read and close queued
  // on libuv's four threads).
  const found = listOr('/proc').flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    const comm = readOr(`/proc/${pid}/comm`).trim();
    return comm === 'dockerd' || comm === 'containerd' ? [{ pid, comm }] : [];
  });
  const procs = await Promise.all(
    found.map(async ({ pid: p, comm }): Promise<EngineProc | undefined> => {
      const [status, cmdline] = await Promise.all([
        fs.readFile(`/proc/${p}/status`, 'utf8').catch(() => ''),
        fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => ''),
      ]);
      const ppid = /^PPid:\s+(\d+)/m.exec(status);
      if (!ppid) return undefined;
      return { pid: Number(p), comm, ppid: Number(ppid[1]), args: cmdline.split('\0') };
    }),
  );
  return procs.filter((x): x is EngineProc => x !== undefined);
}

function listOr(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The unix sockets a dockerd listens on, from its command line (none given: the default socket). */
export function dockerdSockets(args: readonly string[]): string[] {
  const hosts: string[] = [];
  args.forEach((a, i) => {
    const m = /^(?:-H|--host)(?:=(.*))?$/.exec(a);
    if (m) hosts.push(m[1] ?? args[i + 1] ?? '');
  });
  if (hosts.length === 0) return [DEFAULT_SOCKET];
  return hosts.flatMap((h) => (h.startsWith('unix://') ? [h.slice('unix://'.length)] : []));
}

/**
 * The dockerd serving `socket`, and its containerd: the one it started (its child), or, when it was
 * told of another one (a system containerd), the only containerd no dockerd started. Pure.
 */
export function pickEngine(
  procs: EngineProcs,
  socket: string,
): { dockerd?: EngineProc; containerd?: EngineProc } {
  const norm = (p: string) => path.normalize(p).replace(/^\/var\/run\//, '/run/');
  const dockerds = procs.filter((p) => p.comm === 'dockerd');
  const dockerd = dockerds.find((d) => dockerdSockets(d.args).some((s) => norm(s) === norm(socket)));
  if (!dockerd) return {};
  const containerds = procs.filter((p) => p.comm === 'containerd');
  const child = containerds.find((c) => c.ppid === dockerd.pid);
  const system = containerds.filter((c) => !dockerds.some((d) => d.pid === c.ppid));
  const told = dockerd.args.some((a) => /^--containerd(=|$)/.test(a));
  return { dockerd, containerd: child ?? (told && system.length === 1 ? system[0] : undefined) };
}

/** The engine serving `socket` on this host, its descriptors and limits read now; [] when not found. */
export async function engineProcesses(procs: EngineProcs, socket: string): Promise<EngineProcess[]> {
  const { dockerd, containerd } = pickEngine(procs, socket);
  const picked = [dockerd, containerd].filter((p): p is EngineProc => p !== undefined);
  const read = await Promise.all(
    picked.map(async (p): Promise<EngineProcess | undefined> => {
      const [limits, fds] = await Promise.all([
        fs.readFile(`/proc/${p.pid}/limits`, 'utf8').catch(() => ''),
        fs.readdir(`/proc/${p.pid}/fd`).catch(() => undefined),
      ]);
      if (!fds) return undefined;
      const { soft, hard } = openFilesLimits(limits);
      return {
        name: p.comm as EngineProcess['name'],
        pid: p.pid,
        fds: fds.length,
        ...(soft !== undefined ? { softLimit: soft } : {}),
        ...(hard !== undefined ? { hardLimit: hard } : {}),
      };
    }),
  );
  return read.filter((x): x is EngineProcess => x !== undefined);
}

/** What starting `starting` more agents on the engine of `procs` would run into. Pure. */
export function descriptorWarnings(procs: readonly EngineProcess[], starting: number): string[] {
  if (starting === 0) return [];
  const out: string[] = [];
  for (const p of procs) {
    const each = p.name === 'dockerd' ? DOCKERD_FDS_PER_AGENT : CONTAINERD_FDS_PER_AGENT;
    const after = p.fds + starting * each;
    if (p.softLimit === undefined || after <= p.softLimit) continue;
    out.push(
      `engine descriptors: ${p.name} (pid ${p.pid}) has ${p.fds} files open of its limit ${p.softLimit}; about ${after} after starting ${starting} agent(s) (${each} each): creating and starting agents will fail ("too many open files"). Raise its open-files limit (LimitNOFILE= in its systemd unit, or ulimit -n before it starts) and restart it`,
    );
  }
  return out;
}

/**
 * Agents whose `nofile` hard limit is above the engine's: runc, started by containerd's shim with
 * containerd's limits, cannot raise a limit past its own hard one, and the agent's start fails ("error
 * setting rlimit type 7: operation not permitted"; seen with a dockerd started under a hard limit of
 * 400 and the default nofile of 2048). containerd's limit decides; dockerd's when its containerd was not
 * found (it started it: the same limit). Pure.
 */
export function nofileWarnings(procs: readonly EngineProcess[], starting: readonly AgentSpec[]): string[] {
  const parent = procs.find((p) => p.name === 'containerd') ?? procs.find((p) => p.name === 'dockerd');
  const limit = parent?.hardLimit;
  if (parent === undefined || limit === undefined) return [];
  const over = starting.filter((a) => (a.ulimits.nofile?.hard ?? 0) > limit);
  if (over.length === 0) return [];
  const asked = Math.max(...over.map((a) => a.ulimits.nofile?.hard ?? 0));
  const names = someOf(over.map((a) => a.id));
  return [
    `engine open-files limit: ${over.length} agent(s) (${names}) ask for nofile up to ${asked}, above the hard limit ${limit} that ${parent.name} (pid ${parent.pid}) starts them under: their start will fail ("error setting rlimit type 7: operation not permitted"). Lower ulimits.nofile to at most ${limit}, or raise the engine's limit (LimitNOFILE= in its systemd unit, or ulimit -Hn before it starts) and restart it`,
  ];
}
