/** ps: one row per agent of the project, declared or running. */
import type { OpenEngine } from '../docker/engines.js';
import { engineOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines, unreachableEngine } from '../fleet/open-engines.js';
import { desiredOn } from '../fleet/plan.js';
import { toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { observe } from '../reconcile/observe.js';
import { type DesiredState, LOCAL_ENGINE, type ObservedState, type UnreachableEngine } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { gatewayContainerName } from '../egress/names.js';
import { type OpContext, portOf } from './context.js';
import { naturalCompare } from '../util/natural-sort.js';
import path from 'node:path';
import { type DiskPressure, diskPressure, freeSpaceMinimum } from '../reconcile/free-space.js';
import { WORKDIRS } from '../reconcile/workdir.js';

export interface AgentRow {
  agent: string;
  container: string;
  /** Engine state, or `missing` for a declared agent without a container. */
  state: string;
  image: string;
  memoryBytes?: number;
  nanoCpus?: number;
  /** Milliseconds since the container started, when running. */
  uptimeMs?: number;
  /** Whether the agent is still declared in the file. */
  declared: boolean;
  /** The engine the row was observed on (`local` for a file without engines:). */
  engine?: string;
  /**
   * A copy of a declared agent on an engine other than the file's (its home, named here): apply
   * removes it (when the agent also runs at home) or moves the agent with --migrate.
   */
  strayFrom?: string;
  /** State `unknown`: the engine could not be reached (its message). */
  unreachable?: string;
  containerId?: string;
  /** Restarts by the engine's restart policy (a crash loop shows here), the last exit code, health. */
  restartCount?: number;
  exitCode?: number;
  health?: 'starting' | 'healthy' | 'unhealthy';
  /**
   * Free space and inodes of the filesystem where its working directory lives (flagged when short or
   * close to apply's minimum); one statfs per runtime directory, shared by its rows.
   */
  filesystem?: DiskPressure;
}

/**
 * One statfs per distinct directory, whatever the number of agents. A filesystem that cannot be read
 * leaves the figures out rather than failing ps.
 */
function pressureOf(
  host?: OpenEngine['host'],
): (dir: string | undefined) => Promise<DiskPressure | undefined> {
  const min = freeSpaceMinimum();
  const seen = new Map<string, Promise<DiskPressure | undefined>>();
  return (dir) => {
    if (dir === undefined) return Promise.resolve(undefined);
    let p = seen.get(dir);
    if (!p) {
      p = diskPressure(dir, min, host).catch(() => undefined);
      seen.set(dir, p);
    }
    return p;
  };
}

/** The distinct filesystems of `rows` that are short or close to the minimum, for a warning. */
export function pressedFilesystems(rows: readonly Pick<AgentRow, 'filesystem'>[]): DiskPressure[] {
  const out = new Map<string, DiskPressure>();
  for (const r of rows)
    if (r.filesystem && r.filesystem.level !== 'ok') out.set(r.filesystem.path, r.filesystem);
  return [...out.values()].sort((a, b) => naturalCompare(a.path, b.path));
}

/** The fields ps adds from inspect to tell a crash loop or an unhealthy agent from a working one. */
function wellness(d: {
  restartCount?: number;
  exitCode?: number;
  health?: AgentRow['health'];
}): Pick<AgentRow, 'restartCount' | 'exitCode' | 'health'> {
  return {
    ...(d.restartCount !== undefined ? { restartCount: d.restartCount } : {}),
    ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
    ...(d.health ? { health: d.health } : {}),
  };
}

/** The STATE cell: the engine's state, with restarts, exit code and health where they say something. */
export function stateText(r: Pick<AgentRow, 'state' | 'restartCount' | 'exitCode' | 'health'>): string {
  const notes: string[] = [];
  if ((r.restartCount ?? 0) > 0) notes.push(`restarted ${r.restartCount}x`);
  // A running container's exit code is 0 whatever the last run's was: shown only between runs.
  if (r.exitCode !== undefined && ['restarting', 'exited', 'dead'].includes(r.state))
    notes.push(`last exit ${r.exitCode}`);
  if (r.health && r.state === 'running') notes.push(r.health);
  return notes.length > 0 ? `${r.state} (${notes.join(', ')})` : r.state;
}

/** The row of the project's egress gateway in `ps`. */
export const EGRESS_GATEWAY_ROW = '(egress gateway)';

/** ps of a file: its rows, and the engines that could not be looked at (each named, with its agents). */
export interface PsResult {
  rows: AgentRow[];
  unreachable: UnreachableEngine[];
}

/** ps's rows; see psReport for the engines that could not be reached (their agents are `unknown`). */
export async function ps(desired: DesiredState, ctx: OpContext = {}, now = Date.now()): Promise<AgentRow[]> {
  return (await psReport(desired, ctx, now)).rows;
}

/**
 * A file without `engines:` is looked at on its one engine, as always. With engines, every engine in
 * parallel: each row says its engine, a copy of an agent away from its file's engine is a stray, and an
 * engine that does not answer gives its agents as `unknown` and is reported, the others still listed.
 */
export async function psReport(
  desired: DesiredState,
  ctx: OpContext = {},
  now = Date.now(),
): Promise<PsResult> {
  if (!hasOtherEngines(desired)) {
    const [observed, filesystem] = await Promise.all([
      observe(portOf(ctx), desired, { inspectAll: true }),
      pressureOf()(path.join(desired.runtimeDir, WORKDIRS)),
    ]);
    return { rows: sortRows(rowsOf(desired, observed, now, filesystem)), unreachable: [] };
  }
  const { open, failed } = await openFileEngines(desired, portOf(ctx));
  const unreachable = failed.map((f) => unreachableEngine(desired, f.spec.name, f.message));
  const seen = await Promise.all(
    open.map(async (e) => {
      try {
        const [observed, filesystem] = await Promise.all([
          observe(e.port, desiredOn(desired, e.spec), { inspectAll: true }),
          pressureOf(e.host)(path.join(e.spec.runtimeDir, WORKDIRS)),
        ]);
        return { engine: e.name, spec: e.spec, observed, filesystem };
      } catch (err) {
        unreachable.push(unreachableEngine(desired, e.name, toAgentctlError(err).message));
        return undefined;
      }
    }),
  );
  const home = new Map(desired.agents.map((a) => [a.id, engineOf(a)]));
  const rows: AgentRow[] = [];
  for (const s of seen) {
    if (!s) continue;
    // Each engine's own missing rows; every container it holds, a stray named as such.
    for (const r of rowsOf(desiredOn(desired, s.spec), s.observed, now, s.filesystem)) {
      const h = home.get(r.agent);
      rows.push({
        ...r,
        engine: s.engine,
        declared: r.declared || h !== undefined,
        ...(h !== undefined && h !== s.engine ? { strayFrom: h } : {}),
      });
    }
  }
  unreachable.sort((a, b) => naturalCompare(a.engine, b.engine));
  for (const u of unreachable) {
    for (const id of u.agents) {
      const a = desired.agents.find((x) => x.id === id);
      if (!a) continue;
      rows.push({
        agent: a.id,
        container: a.name,
        state: 'unknown',
        image: a.image,
        declared: true,
        engine: u.engine,
        unreachable: u.message,
      });
    }
  }
  return { rows: sortRows(rows), unreachable };
}

function sortRows(rows: AgentRow[]): AgentRow[] {
  return rows.sort(
    (a, b) =>
      naturalCompare(a.agent, b.agent) ||
      naturalCompare(a.engine ?? LOCAL_ENGINE, b.engine ?? LOCAL_ENGINE) ||
      naturalCompare(a.container, b.container),
  );
}

/** One engine's rows: its containers, its gateway, and the missing rows of `desired`'s agents. */
function rowsOf(
  desired: DesiredState,
  observed: ObservedState,
  now: number,
  filesystem: DiskPressure | undefined,
): AgentRow[] {
  const declared = new Set(desired.agents.map((a) => a.id));
  const rows: AgentRow[] = observed.containers.map((c) => ({
    agent: c.agentId || c.labels[LABEL.agent] || '?',
    container: c.name,
    state: c.state,
    image: c.image,
    memoryBytes: c.limits?.memoryBytes,
    nanoCpus: c.limits?.nanoCpus,
    uptimeMs: c.state === 'running' && c.startedAt ? now - Date.parse(c.startedAt) : undefined,
    declared: declared.has(c.agentId),
    containerId: c.id,
    ...wellness(c),
    ...(filesystem ? { filesystem } : {}),
  }));
  const gw = observed.egress?.gateway;
  if (gw) {
    // Part of the fleet: when it is not running, agents with an egress policy have no network at all.
    rows.push({
      agent: EGRESS_GATEWAY_ROW,
      container: gw.name,
      state: gw.state,
      image: observed.egress?.gatewayImage ?? '',
      declared: true,
      containerId: gw.id,
    });
  } else if (desired.agents.some((a) => a.egress)) {
    rows.push({
      agent: EGRESS_GATEWAY_ROW,
      container: gatewayContainerName(desired.project),
      state: 'missing',
      image: observed.egress?.gatewayImage ?? '',
      declared: true,
    });
  }
  const seen = new Set(rows.filter((r) => declared.has(r.agent)).map((r) => r.agent));
  for (const a of desired.agents) {
    if (seen.has(a.id)) continue;
    rows.push({
      agent: a.id,
      container: a.name,
      state: 'missing',
      image: a.image,
      declared: true,
      ...(filesystem ? { filesystem } : {}),
    });
  }
  return rows;
}

/** A row of `ps` without a file: an agent of any project we manage. */
export type ManagedAgentRow = Omit<AgentRow, 'declared' | 'containerId'> & {
  project: string;
  containerId: string;
};

/** Every agent we manage on the engine (or only `project`'s), whatever file declared it. */
export async function psAll(
  ctx: OpContext & { project?: string } = {},
  now = Date.now(),
): Promise<ManagedAgentRow[]> {
  const port = portOf(ctx);
  const summaries = await port.listManaged(ctx.project);
  const pressure = pressureOf();
  const rows = await mapLimit(summaries, 16, async (s): Promise<ManagedAgentRow | undefined> => {
    const d = await port.inspectContainer(s.id);
    if (!d) return undefined; // removed meanwhile
    // Working directories live in <runtimeDir>/<WORKDIRS>/<agent>: their parent is one per project.
    const filesystem = await pressure(d.workDir && path.dirname(d.workDir));
    return {
      project: s.labels[LABEL.project] ?? '',
      agent: s.labels[LABEL.agent] || '?',
      container: s.name,
      state: d.state,
      image: s.image,
      memoryBytes: d.limits.memoryBytes,
      nanoCpus: d.limits.nanoCpus,
      uptimeMs: d.state === 'running' && d.startedAt ? now - Date.parse(d.startedAt) : undefined,
      containerId: s.id,
      ...wellness(d),
      ...(filesystem ? { filesystem } : {}),
    };
  });
  return rows
    .filter((r): r is ManagedAgentRow => r !== undefined)
    .sort(
      (a, b) =>
        naturalCompare(a.project, b.project) ||
        naturalCompare(a.agent, b.agent) ||
        naturalCompare(a.container, b.container),
    );
}
