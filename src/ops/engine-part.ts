/**
 * The steps of an apply that one-engine apply (ops/reconcile.ts) and fleet apply (fleet/reconcile.ts)
 * share, written once over a list of engine parts (one-engine apply passes one): the guards against
 * another file's agents and against mass removal, preflight, the host warnings, carrying each part out on
 * its engine, and the settle wait. Two copies of these had drifted (the fleet one lost the file label,
 * the foreign-file guard, the host warnings and the settle-wait notice); one copy cannot.
 *
 * The guards and preflight look at every part before anything changes on any engine: a run refused on
 * one engine changes nothing on the others either.
 */
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { AgentctlError } from '../errors.js';
import { execute, type ProgressEvent } from '../reconcile/execute.js';
import { diskPressure, type FreeSpaceMinimum, freeSpaceMinimum, shortText } from '../reconcile/free-space.js';
import { hostLimits, hostLimitWarnings } from '../reconcile/host-limits.js';
import {
  descriptorWarnings,
  engineProcesses,
  engineProcs,
  nofileWarnings,
} from '../reconcile/engine-descriptors.js';
import { foreignProblems, massPruneProblem, type RunProblem } from '../reconcile/guards.js';
import { type PreflightProblem, preflightProblems } from '../reconcile/preflight.js';
import { WORKDIRS } from '../reconcile/workdir.js';
import type { SecretValues } from '../secrets/values.js';
import {
  type Action,
  type ActionResult,
  type AgentSpec,
  type DesiredState,
  LOCAL_ENGINE,
  type ObservedState,
  type Plan,
} from '../types.js';
import { shouldBeRunning, waitReady } from './wait-ready.js';

/** One engine's share of a run. */
export interface EnginePart {
  /** The engine's name (`local` for one-engine apply): messages about another engine name it. */
  engine: string;
  /** The file as this engine sees it: its agents, its runtimeDir (a path on the engine's host). */
  desired: DesiredState;
  observed: ObservedState;
  plan: Plan;
  port: DockerPort;
  /** The filesystem of the engine's host. */
  host: HostFs;
  /** Checked by preflight beside the plan's actions (a migration's create on its target engine). */
  incoming?: Action[];
}

/** Whether the engine runs on this machine: its host-wide limits are then this machine's. */
export function onThisHost(part: Pick<EnginePart, 'host'>): boolean {
  return part.host === localHostFs;
}

export interface GuardOptions {
  allowMassPrune?: boolean;
  allowForeignPrune?: boolean;
  allowForeignChange?: boolean;
  /** Watch: another file's agents are withheld (the problems are returned) instead of refusing the run. */
  withholdFailing?: boolean;
}

/**
 * The guards of the whole run over every part at once (pure; src/reconcile/guards.ts): removals and
 * changes of another file's agents, and a mass removal counted over every engine (stray copies and
 * leftovers are no prune: their agent stays). `desired` is the whole file.
 */
export function runProblems(
  desired: DesiredState,
  parts: readonly Pick<EnginePart, 'plan' | 'observed'>[],
  opts: GuardOptions,
  targeted?: ReadonlySet<string>,
): { foreign: RunProblem[]; mass: RunProblem | undefined } {
  const first = parts[0]?.plan;
  const merged: Plan = {
    project: desired.project,
    actions: parts.flatMap((x) => x.plan.actions),
    unchanged: [],
    conflicts: [],
    ...(first?.egress && { egress: first.egress }),
  };
  const containers = parts.flatMap((x) => x.observed.containers);
  return {
    foreign: foreignProblems(desired, merged, opts),
    mass: opts.allowMassPrune ? undefined : massPruneProblem(desired, merged, { containers }, targeted),
  };
}

/**
 * Before anything is built or changed: another file's agents refused (or returned, to be withheld by
 * watch), a mass removal refused.
 */
export function guardRun(
  desired: DesiredState,
  parts: readonly EnginePart[],
  opts: GuardOptions,
  targeted?: ReadonlySet<string>,
): RunProblem[] {
  const { foreign, mass } = runProblems(desired, parts, opts, targeted);
  const [firstForeign, ...moreForeign] = foreign;
  if (firstForeign && !opts.withholdFailing)
    throw new AgentctlError('unsafe', firstForeign.message, {
      details: moreForeign.map((x) => x.message),
      optIn: firstForeign.optIn,
    });
  if (mass) throw new AgentctlError('unsafe', mass.message, { optIn: mass.optIn });
  return foreign;
}

export interface PreflightRunOptions {
  /** Images a dry run would build first: not missing. */
  willBuild: ReadonlySet<string>;
  failedBuilds?: ReadonlyMap<string, string>;
  minFree?: FreeSpaceMinimum;
  /** Problems of single agents withhold them (watch) instead of refusing the run; see ApplyOptions. */
  withholdFailing?: boolean;
  /** Whether name conflicts count (apply: yes; diff shows them in the plan already). */
  conflicts?: boolean;
}

/**
 * Each part checked against its own engine and host, in parallel. Returns the parts (without the agents
 * withheld, when withholding), the problems that refuse the run, and those withheld.
 */
export async function preflightRun(
  parts: readonly EnginePart[],
  opts: PreflightRunOptions,
): Promise<{ parts: EnginePart[]; problems: PreflightProblem[]; withheld: PreflightProblem[] }> {
  const lists = await Promise.all(
    parts.map(async (x) => {
      const checked: Plan = {
        ...x.plan,
        actions: [...x.plan.actions, ...(x.incoming ?? [])],
        conflicts: opts.conflicts === false ? [] : x.plan.conflicts,
      };
      if (checked.actions.length === 0 && checked.conflicts.length === 0) return [];
      const found = await preflightProblems(x.desired, x.observed, checked, x.port, await x.port.info(), {
        willBuild: opts.willBuild,
        failedBuilds: opts.failedBuilds,
        host: x.host,
        minFree: opts.minFree,
      });
      return x.engine === LOCAL_ENGINE
        ? found
        : found.map((p) => ({ ...p, message: `engine ${x.engine}: ${p.message}` }));
    }),
  );
  const problems = lists.flat();
  if (opts.withholdFailing && problems.every((x) => x.agents.length > 0)) {
    const out = new Set(problems.flatMap((x) => x.agents));
    return { parts: parts.map((x) => withoutAgentsIn(x, out)), problems: [], withheld: problems };
  }
  return { parts: [...parts], problems, withheld: [] };
}

/**
 * Warnings, not refusals, said before anything changes: a runtime directory short of space on a run that
 * creates nothing (a run that creates was refused by preflight for the same figures), and, with
 * `hostLimits`, host-wide limits the agents about to start would run into (for the engines on this
 * machine, whose limits can be read here).
 */
export async function hostWarnings(
  parts: readonly Pick<EnginePart, 'engine' | 'desired' | 'plan' | 'host' | 'port'>[],
  opts: { minFree?: FreeSpaceMinimum; hostLimits: boolean },
): Promise<string[]> {
  const min = opts.minFree ?? freeSpaceMinimum();
  const out = (await Promise.all(parts.map((x) => diskShort(x, min)))).filter(
    (w): w is string => w !== undefined,
  );
  if (!opts.hostLimits) return out;
  const here = parts.filter(onThisHost);
  const startingOf = (x: Pick<EnginePart, 'plan'>) =>
    x.plan.actions.flatMap((a) =>
      (a.kind === 'create' || a.kind === 'recreate') && a.spec.state === 'running' ? [a.spec] : [],
    );
  const starting = here.flatMap(startingOf);
  if (starting.length > 0) {
    const [limits, descriptors] = await Promise.all([
      hostLimits(),
      engineDescriptorWarnings(here, startingOf),
    ]);
    out.push(
      ...hostLimitWarnings(
        limits,
        starting,
        here.flatMap((x) => x.desired.agents),
      ),
      ...descriptors,
    );
  }
  return out;
}

/**
 * The descriptors of each engine of this host reached at a unix socket here, against its dockerd's and
 * containerd's limits (their processes found once for every engine).
 */
async function engineDescriptorWarnings(
  here: readonly Pick<EnginePart, 'engine' | 'plan' | 'port'>[],
  startingOf: (x: Pick<EnginePart, 'plan'>) => readonly AgentSpec[],
): Promise<string[]> {
  const sockets = here.filter((x) => x.port.socketPath !== undefined && startingOf(x).length > 0);
  if (sockets.length === 0) return [];
  const procs = await engineProcs();
  const lists = await Promise.all(
    sockets.map(async (x) => {
      const found = await engineProcesses(procs, x.port.socketPath as string);
      const where = x.engine === LOCAL_ENGINE ? '' : `engine ${x.engine}: `;
      const starting = startingOf(x);
      return [...descriptorWarnings(found, starting.length), ...nofileWarnings(found, starting)].map(
        (w) => `${where}${w}`,
      );
    }),
  );
  return lists.flat();
}

/**
 * A run that creates no container needs no space, so it is not refused (a full disk must not stop a
 * stop, a removal or a no-op); but agents on a full disk fail to write /mnt, the failure worth saying.
 */
async function diskShort(
  x: Pick<EnginePart, 'engine' | 'desired' | 'plan' | 'host'>,
  min: FreeSpaceMinimum,
): Promise<string | undefined> {
  if (x.plan.actions.some((a) => a.kind === 'create' || a.kind === 'recreate')) return undefined;
  // An unreadable runtime directory is preflight's to report, when it matters: here it is only a warning.
  const disk = await diskPressure(path.join(x.desired.runtimeDir, WORKDIRS), min, x.host).catch(
    () => undefined,
  );
  const short = disk && shortText(disk, min);
  if (!short) return undefined;
  const where = x.engine === LOCAL_ENGINE ? '' : `engine ${x.engine}: `;
  return `${where}runtime directory: ${short}; this run creates nothing, but agents writing /mnt there may fail (free some, or lower the minimum)`;
}

/**
 * What apply would refuse the run for and warn about, found without changing anything (diff shows it):
 * the guards, each part's preflight (name conflicts left to the plan), and the warnings.
 */
export async function checkParts(
  desired: DesiredState,
  parts: readonly EnginePart[],
  opts: GuardOptions & {
    willBuild: ReadonlySet<string>;
    minFree?: FreeSpaceMinimum;
    targeted?: ReadonlySet<string>;
  },
): Promise<{ problems: RunProblem[]; warnings: string[] }> {
  const { foreign, mass } = runProblems(desired, parts, opts, opts.targeted);
  const checked = await preflightRun(parts, {
    willBuild: opts.willBuild,
    minFree: opts.minFree,
    conflicts: false,
  });
  return {
    problems: [...foreign, ...(mass ? [mass] : []), ...checked.problems],
    warnings: await hostWarnings(parts, { minFree: opts.minFree, hostLimits: true }),
  };
}

export interface CarryOutOptions {
  project: string;
  /** The real path of the file being applied: recorded on every container created (LABEL.file). */
  file?: string;
  parallel: number;
  stopTimeoutSeconds: number;
  secrets?: SecretValues;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** See ApplyOptions.waitReadyMs (0: no wait). */
  waitReadyMs: number;
  /** Called once before the settle wait, with how many agents (on every engine) are waited for. */
  onSettleWait?: (agents: number, ms: number) => void;
}

/**
 * Carries each part out on its engine (the engines in parallel, each with `parallel` agents at once),
 * then waits once for every agent started anywhere to settle: one that did not stay up fails its action.
 */
export async function carryOut(parts: readonly EnginePart[], opts: CarryOutOptions): Promise<ActionResult[]> {
  const finished = new Map<ActionResult, number>();
  const executed = await Promise.all(
    parts.map((x) =>
      execute(x.plan, x.port, {
        project: opts.project,
        runtimeDir: x.desired.runtimeDir,
        host: x.host,
        file: opts.file,
        parallel: opts.parallel,
        stopTimeoutSeconds: opts.stopTimeoutSeconds,
        onProgress: (e) => {
          if (e.type === 'end') finished.set(e.result, Date.now());
          opts.onProgress?.(e);
        },
        signal: opts.signal,
        secrets: opts.secrets,
      }),
    ),
  );
  const settleMs = opts.waitReadyMs;
  if (settleMs <= 0 || opts.signal?.aborted) return executed.flat();
  const waited = executed.flat().filter(shouldBeRunning).length;
  if (waited === 0) return executed.flat();
  opts.onSettleWait?.(waited, settleMs);
  const settled = await Promise.all(
    executed.map((results, i) =>
      waitReady(
        results,
        results.map((r) => finished.get(r) ?? Date.now()),
        (parts[i] as EnginePart).port,
        { settleMs },
      ),
    ),
  );
  return settled.flat();
}

/** The part without the actions (and name conflicts) of `agents`. */
export function withoutAgentsIn(x: EnginePart, agents: ReadonlySet<string>): EnginePart {
  if (agents.size === 0) return x;
  return {
    ...x,
    plan: withoutAgents(x.plan, agents),
    ...(x.incoming && { incoming: x.incoming.filter((a) => !agents.has(a.agentId)) }),
  };
}

/** The plan without the actions (and name conflicts, and migrations) of `agents`. */
export function withoutAgents(p: Plan, agents: ReadonlySet<string>): Plan {
  if (agents.size === 0) return p;
  return {
    ...p,
    actions: p.actions.filter((a) => !agents.has(a.agentId)),
    conflicts: p.conflicts.filter((c) => !agents.has(c.agentId)),
    ...(p.migrations && { migrations: p.migrations.filter((m) => !agents.has(m.agentId)) }),
  };
}
