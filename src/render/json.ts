/**
 * The conventions every `-o json` output follows (documented in schemas/output/): the agent's id is
 * `agent`, CPUs are a number of CPUs (never nanoCPUs), sizes are bytes (`...Bytes`), durations are
 * milliseconds (`...Ms`), a value that is not known is `null` (never a missing key), and positions in
 * the file are `{ file, line, col }`.
 */
import type { AgentctlError, ConfigProblem } from '../errors.js';
import { exitCodeFor } from '../errors.js';
import type { AgentRecord } from '../ops/inspect.js';
import type { StatsRow } from '../ops/stats.js';
import type { DiskPressure } from '../reconcile/free-space.js';
import { type ConfigWarning, type HealthProbe, LOCAL_ENGINE, type LiveLimits } from '../types.js';

/** JSON text in which an undefined value is `null` rather than a dropped key. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === undefined ? null : v), 2);
}

/** nanoCPUs (the engine's unit) -> CPUs, the unit agents.yaml uses. */
export function cpusOf(nanoCpus: number | undefined): number | null {
  return nanoCpus === undefined ? null : nanoCpus / 1e9;
}

export interface LimitsJson {
  memoryBytes: number;
  cpus: number | null;
  pids: number;
  restart: string;
}

export function limitsToJson(l: LiveLimits): LimitsJson {
  return { memoryBytes: l.memoryBytes, cpus: cpusOf(l.nanoCpus), pids: l.pids, restart: l.restart };
}

export interface PositionedMessage {
  file: string | null;
  line: number | null;
  col: number | null;
  message: string;
}

export function positioned(p: ConfigProblem | ConfigWarning): PositionedMessage {
  return {
    file: p.pos?.file ?? null,
    line: p.pos?.line ?? null,
    col: p.pos?.col ?? null,
    message: p.message,
  };
}

/** What every command prints on stdout with `-o json` when it fails (schemas/output/error.json). */
export function errorToJson(e: AgentctlError, firstLine = e.message): unknown {
  return {
    error: {
      kind: e.kind,
      message: firstLine,
      optIn: e.optIn ?? null,
      exitCode: exitCodeFor(e),
      // Config errors: one entry per problem, positioned; other errors: their further lines.
      problems:
        e.problems.length > 0
          ? e.problems.map(positioned)
          : e.details.map((message) => positioned({ message })),
    },
  };
}

/** A row of `ps` (schemas/output/ps.json), with or without a file. */
export function psRowToJson(
  r: {
    project?: string;
    agent: string;
    container: string;
    containerId?: string;
    state: string;
    image: string;
    memoryBytes?: number;
    nanoCpus?: number;
    uptimeMs?: number;
    declared?: boolean;
    restartCount?: number;
    exitCode?: number;
    health?: string;
    filesystem?: DiskPressure;
    engine?: string;
    strayFrom?: string;
    unreachable?: string;
  },
  project?: string,
): unknown {
  const declared = r.declared ?? null;
  return {
    project: r.project ?? project ?? null,
    agent: r.agent,
    engine: r.engine ?? LOCAL_ENGINE,
    // Where the file puts the agent; a copy anywhere else is a stray.
    homeEngine: r.strayFrom ?? (declared ? (r.engine ?? LOCAL_ENGINE) : null),
    stray: declared === null ? null : r.strayFrom !== undefined,
    unreachable: r.unreachable ?? null,
    container: r.container,
    containerId: r.containerId ?? null,
    state: r.state,
    image: r.image,
    memoryBytes: r.memoryBytes ?? null,
    cpus: cpusOf(r.nanoCpus),
    uptimeMs: r.uptimeMs ?? null,
    // Without a file there is nothing to be declared in.
    declared,
    restartCount: r.restartCount ?? null,
    exitCode: r.exitCode ?? null,
    health: r.health ?? null,
    filesystem: filesystemToJson(r.filesystem),
  };
}

/** Free space where working directories live (the `filesystem` of ps rows and inspect). */
export function filesystemToJson(d: DiskPressure | undefined): unknown {
  if (!d) return null;
  return {
    path: d.path,
    freeBytes: d.freeBytes,
    freeInodes: d.freeInodes,
    minFreeBytes: d.minFreeBytes,
    minFreeInodes: d.minFreeInodes,
    pressure: d.level,
  };
}

/** `inspect` (schemas/output/inspect.json): limits and the spec in CPUs, every field present. */
export function agentRecordToJson(r: AgentRecord): unknown {
  const { nanoCpus, ...spec } = (r.spec ?? {}) as Record<string, unknown>;
  return {
    agent: r.agent,
    project: r.project,
    engine: r.engine,
    container: r.container,
    containerId: r.containerId,
    state: r.state,
    createdAt: r.createdAt ?? null,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    exitCode: r.exitCode ?? null,
    oomKilled: r.oomKilled ?? null,
    image: r.image,
    imageId: r.imageId,
    imageVersion: r.imageVersion ?? null,
    limits: limitsToJson(r.limits),
    // The label leaves out the live limits (they are in `limits`); were nanoCpus there, it would be CPUs.
    spec: r.spec ? { ...spec, ...(typeof nanoCpus === 'number' && { cpus: cpusOf(nanoCpus) }) } : null,
    workDir: r.workDir ?? null,
    disk: r.disk ?? null,
    filesystem: filesystemToJson(r.filesystem),
    health: r.health
      ? {
          status: r.health.status,
          failingStreak: r.health.failingStreak,
          lastProbe: r.health.lastProbe ? probeToJson(r.health.lastProbe) : null,
        }
      : null,
  };
}

/** A healthcheck probe (the `probe` definition of schemas/output/diff.json and inspect.json). */
export function probeToJson(p: HealthProbe): { exitCode: number; output: string; end: string | null } {
  return { exitCode: p.exitCode, output: p.output, end: p.end ?? null };
}

/** A row of `stats` (schemas/output/stats.json). */
export function statsRowToJson(r: StatsRow): unknown {
  return {
    project: r.project,
    agent: r.agent,
    engine: r.engine,
    container: r.container,
    cpuPercent: r.cpuPercent ?? null,
    memoryBytes: r.memoryBytes,
    memoryLimitBytes: r.memoryLimitBytes,
    pids: r.pids,
    workDir: r.workDir ?? null,
    diskBytes: r.diskBytes ?? null,
    diskComplete: r.diskComplete ?? null,
  };
}
