/**
 * apply and diff: observe -> plan -> (preflight -> execute). The library entry points behind the CLI.
 */
import { AgentctlError, AgentExistsError, FileManagedAgentError } from '../errors.js';
import { LABEL } from '../labels.js';
import { refuseOtherEngines } from '../fleet/engines-of.js';
import { acquireLock } from '../lock.js';
import type { ProgressEvent } from '../reconcile/execute.js';
import { observe, type ObserveOptions } from '../reconcile/observe.js';
import { plan } from '../reconcile/plan.js';
import type { TakeOver } from '../reconcile/file-owner.js';
import { resolveTargets, targetBuilds, targetPlan } from '../reconcile/target.js';
import { type BuildPolicy, imagesToBuild, plannedBuilds } from '../reconcile/builds.js';
import { type PreflightProblem, preflightError } from '../reconcile/preflight.js';
import { type BuildOptions, buildImages } from './build.js';
import type { FreeSpaceMinimum } from '../reconcile/free-space.js';
import { type ApplyCheck, checkApply } from './apply-check.js';
import type { DockerPort } from '../docker/port.js';
import { localHostFs } from '../docker/local-host-fs.js';
import {
  type ApplyReport,
  type DesiredState,
  LOCAL_ENGINE,
  type ObservedState,
  type Plan,
} from '../types.js';
import { type OpContext, portOf } from './context.js';
import { loadDigestKey } from '../secrets/digest-key.js';
import { type ResolvedSecrets, resolveSecrets } from '../secrets/resolve.js';
import { SecretValues } from '../secrets/values.js';
import { type EgressExecuteOptions, executeEgress } from '../egress/execute.js';
import { ensureGatewayImage } from '../egress/gateway-image.js';
import type { EgressAction } from '../types.js';
import {
  type CarryOutOptions,
  carryOut,
  type EnginePart,
  guardRun,
  hostWarnings,
  preflightRun,
  withoutAgents,
} from './engine-part.js';

export interface DiffOptions extends OpContext {
  prune?: boolean;
  allowEmpty?: boolean;
  /** Where `fromEnv` secrets are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** How observe inspects a container (the watcher's InspectCache); default: ask the engine. */
  inspect?: ObserveOptions['inspect'];
  /**
   * `desired` holds only some of the file's agents (the watcher's run for a saved change of a few): only
   * their containers are listed, looked at and planned. The rest of the project is not looked at, so
   * nothing of it is changed or pruned, and the emptied-file refusal is the caller's (the watcher
   * checked the whole file). One engine only.
   */
  partial?: boolean;
  /**
   * Only these agents (ids, replica instances, or the key declaring replicas): see reconcile/target.ts.
   * Agents outside the target are never changed, pruned or counted by the mass-prune guard.
   */
  targets?: readonly string[];
  /** Which declared images to build before planning (default `missing`). */
  build?: BuildPolicy;
  /**
   * Free space and inodes where the working directories live (default: the environment's). A run that
   * creates or recreates containers is refused below them; any other run, a no-op too, calls
   * onHostWarning instead: it needs no space itself, but its agents writing /mnt there may fail.
   */
  minFree?: FreeSpaceMinimum;
  /**
   * Let the run change agents that another existing file created, and take them over: each such agent
   * with a change is recreated (data kept), so that its container records this file, and the other
   * file's next run sees it as this file's. Refused otherwise. Also a diff option: it plans the same.
   */
  allowForeignChange?: boolean;
}

export interface ApplyOptions extends DiffOptions {
  /** Let a run remove more than half of the project's agents (and more than one); refused otherwise. */
  allowMassPrune?: boolean;
  /**
   * Let the run remove agents that another file naming the same project created (and that still
   * exists); refused otherwise: two files would prune each other's agents.
   */
  allowForeignPrune?: boolean;
  dryRun?: boolean;
  buildOptions?: Omit<BuildOptions, 'port'>;
  /** Agents worked on at once (default 4). */
  parallel?: number;
  /** Grace period in seconds for stopping containers (default 10). */
  stopTimeoutSeconds?: number;
  /** How long to wait for another run holding the project's lock (default 0: fail at once). */
  lockWaitMs?: number;
  onLockWait?: (holder: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * After carrying the plan out, wait this long and check that every agent created, recreated, started
   * or unpaused is still up (not exited, not restart-looping); one that is not fails its action. Default
   * 0: no wait (the CLI's apply waits 3 s unless told otherwise).
   */
  waitReadyMs?: number;
  /**
   * Called, before anything changes, for each host-wide limit (process table, bridge ports, memory) the
   * agents about to start would run into. Warnings: apply goes on.
   */
  onHostWarning?: (message: string) => void;
  /** Called before the settle wait, with how many agents are waited for. */
  onSettleWait?: (agents: number, ms: number) => void;
  /** Progress of the egress gateway's steps. */
  onEgressProgress?: EgressExecuteOptions['onProgress'];
  /** Called with the plan before anything is changed. */
  onPlan?: (p: Plan) => void;
  /** The caller holds the project's lock already (the watch controller holds it for its whole life). */
  lockHeld?: boolean;
  /** Takes part of the plan back before preflight (the watch controller's per-agent repair back-off). */
  holdBack?: (p: Plan) => Plan;
  /**
   * Preflight problems of single agents (image missing or failing to build, limits above the host's,
   * name taken, network or runtime missing) withhold those agents instead of refusing the run: their
   * actions are dropped from the plan, like holdBack's, the others are carried out, and the problems are
   * returned as `withheld`. Problems of the whole run (runtimeDir unwritable) still refuse it. The watch
   * controller's mode: one bad agent must not stop the repair of the others.
   */
  withholdFailing?: boolean;
  /**
   * Every agent of `desired` must be new: unless the plan for each is a single `create`, refuse with an
   * AgentExistsError and change nothing. Checked under the lock, so two runs racing to make the same
   * agent cannot both pass it (`run` never replaces an existing agent).
   */
  createOnly?: boolean;
  /**
   * The desired state comes from code (createAgent, run), not from a file: a declared agent whose
   * container a file's apply made (LABEL.file, that file still there) is refused with a
   * FileManagedAgentError, unless `adopt` (the caller takes it over; its next container records no file).
   * Checked under the lock, before createOnly.
   */
  fromCode?: { adopt: boolean; adoptable: boolean };
  /** Aborted (SIGINT/SIGTERM): no new action is started; see ExecuteOptions.signal and report.interrupted. */
  signal?: AbortSignal;
}

export interface ReconcileResult {
  plan: Plan;
  report: ApplyReport;
  /** With `withholdFailing`: the problems, and the agents withheld for them (empty otherwise). */
  withheld: PreflightProblem[];
}

// Where it always was, for callers that import it from here.
export { AgentExistsError } from '../errors.js';

interface Planned {
  plan: Plan;
  observed: ObservedState;
  /** With `targets`: the agent ids they name. */
  targeted?: ReadonlySet<string>;
}

export interface DiffResult extends Planned {
  /** The images apply would build first, and what would make it refuse the run or warn. */
  check: ApplyCheck;
}

/**
 * Compute the plan without changing anything, and check it as apply would (see ops/apply-check.ts).
 * Secret references are read (an unresolvable one is an error) so that a changed secret shows as
 * `(secret changed)`; no value is kept.
 */
export async function diff(desired: DesiredState, opts: DiffOptions = {}): Promise<DiffResult> {
  const { desired: resolved } = await resolveFor(desired, { create: false, env: opts.env });
  const planned = await diffResolved(resolved, opts);
  const { plan: p, observed, targeted } = planned;
  const all = plannedBuilds(resolved, observed, opts.build ?? 'missing');
  const check = await checkApply(resolved, observed, p, portOf(opts), {
    builds: targeted ? targetBuilds(all, targeted) : all,
    targeted,
    minFree: opts.minFree,
    allowForeignChange: opts.allowForeignChange,
  });
  return { ...planned, check };
}

async function diffResolved(
  desired: DesiredState,
  opts: DiffOptions & Pick<ApplyOptions, 'fromCode'>,
): Promise<Planned> {
  refuseOtherEngines(desired, 'diff and apply');
  const observed = await observe(portOf(opts), desired, {
    inspect: opts.inspect,
    ...(opts.partial && { agents: desired.agents.map((a) => a.id) }),
  });
  const full = plan(desired, observed, { prune: opts.prune, takeOver: takeOverOf(opts) });
  if (opts.targets?.length) {
    const targeted = resolveTargets(opts.targets, desired, observed);
    return { plan: targetPlan(full, targeted, desired, opts.targets), observed, targeted };
  }
  if (!opts.partial) refuseEmptyTeardown(desired, observed, opts.allowEmpty);
  return { plan: full, observed };
}

/** createAgent's adopt takes the agent over whatever else differs; allowForeignChange, what it changes. */
export function takeOverOf(
  opts: Pick<ApplyOptions, 'fromCode' | 'allowForeignChange'>,
): TakeOver | undefined {
  if (opts.fromCode?.adopt) return 'all';
  return opts.allowForeignChange ? 'changed' : undefined;
}

/** The specs with their secrets' digests, and the values, read from the references. */
export async function resolveFor(
  desired: DesiredState,
  opts: { create: boolean; env?: NodeJS.ProcessEnv },
): Promise<ResolvedSecrets> {
  if (!desired.secrets?.length) return { desired, values: new SecretValues() };
  const key = await loadDigestKey(desired.runtimeDir, desired.project, { create: opts.create });
  return resolveSecrets(desired, key, opts.env);
}

/**
 * The project's lock for an apply (one engine or several): none for a dry run, which changes nothing, or
 * when the caller (a watcher) holds it for its whole life.
 */
export async function runLock(project: string, opts: ApplyOptions): Promise<() => Promise<void>> {
  if (opts.dryRun || opts.lockHeld) return async () => undefined;
  return acquireLock(project, { waitMs: opts.lockWaitMs, onWait: opts.onLockWait, signal: opts.signal });
}

/** Converge the engine to the desired state. Never throws for a failed action: see report.ok. */
export async function reconcile(desired: DesiredState, opts: ApplyOptions = {}): Promise<ReconcileResult> {
  const started = performance.now();
  const port = portOf(opts);
  const release = await runLock(desired.project, opts);
  // Throwaway containers a killed run left behind (they belong to no project, so no plan sees them):
  // swept on every run that may change things, alongside the run's own work (a partial run is the
  // watcher's, whose full runs sweep).
  const sweep = opts.dryRun || opts.partial ? undefined : port.removeLeftoverScratch().catch(() => 0);
  try {
    // Before anything changes: an unresolvable secret reference refuses the run.
    const secrets = await resolveFor(desired, { create: !opts.dryRun, env: opts.env });
    desired = secrets.desired;
    const first = await diffResolved(desired, opts);
    const { targeted } = first;
    let { plan: p, observed } = first;
    if (opts.fromCode && !opts.fromCode.adopt) refuseFileManaged(desired, observed, opts.fromCode.adoptable);
    if (opts.createOnly) refuseExisting(desired, p, observed);
    // Another file's agents: refused (one-shot) or withheld with the reason (watch), unless allowed.
    const foreign = guardRun(desired, [part(desired, observed, p, port)], opts, targeted);
    const allBuilds = imagesToBuild(desired, observed, opts.build ?? 'missing');
    const builds = targeted ? targetBuilds(allBuilds, targeted) : allBuilds;
    const failedBuilds = new Map<string, string>();
    if (builds.length > 0 && !opts.dryRun) {
      const failed = (await buildImages(builds, { ...opts.buildOptions, port })).filter((b) => !b.ok);
      if (failed.length > 0 && !opts.withholdFailing) {
        throw new AgentctlError('preflight', `image build failed, nothing was changed: ${failed[0]?.error}`, {
          details: failed.slice(1).map((f) => f.error ?? f.image),
        });
      }
      // Withholding: the agents that needed a failed image are withheld by preflight, with its error.
      for (const f of failed) failedBuilds.set(f.image, f.error ?? 'build failed');
      // The new image ids decide which agents are recreated: look again.
      ({ plan: p, observed } = await diffResolved(desired, opts));
    }
    // The gateway's image is built here, like declared images, so the plan that follows sees it.
    if (!opts.dryRun && p.egress?.some((a) => a.kind === 'create-gateway' || a.kind === 'recreate-gateway')) {
      if (!observed.egress?.gatewayImageId) {
        await ensureGatewayImage(port);
        ({ plan: p, observed } = await diffResolved(desired, opts));
      }
    }
    if (opts.holdBack) p = opts.holdBack(p);
    p = withoutAgents(p, new Set(foreign.flatMap((x) => x.agents)));
    const checked = await preflightRun([part(desired, observed, p, port)], {
      // In a dry run nothing is built: an image that would be is not "missing".
      willBuild: new Set(opts.dryRun ? builds.map((b) => b.image) : []),
      failedBuilds,
      minFree: opts.minFree,
      withholdFailing: opts.withholdFailing,
    });
    const parts = checked.parts;
    p = (parts[0] as EnginePart).plan;
    const withheld: PreflightProblem[] = [...foreign, ...checked.withheld];
    opts.onPlan?.(p);
    if (checked.problems.length > 0) throw preflightError(checked.problems);
    if (opts.onHostWarning)
      for (const w of await hostWarnings(parts, { minFree: opts.minFree, hostLimits: !opts.dryRun }))
        opts.onHostWarning(w);
    const egressSteps = p.egress ?? [];
    const isTeardown = (a: EgressAction) => a.kind === 'remove-gateway' || a.kind === 'remove-network';
    const egressOpts = {
      project: desired.project,
      runtimeDir: desired.runtimeDir,
      onProgress: opts.onEgressProgress,
    };
    const egressResults = opts.dryRun
      ? []
      : await executeEgress(
          egressSteps.filter((a) => !isTeardown(a)),
          port,
          egressOpts,
        );
    // The same executor and settle wait fleet apply runs per engine (ops/engine-part.ts).
    const results = opts.dryRun ? [] : await carryOut(parts, carryOutOptions(desired, secrets.values, opts));
    if (!opts.dryRun)
      egressResults.push(...(await executeEgress(egressSteps.filter(isTeardown), port, egressOpts)));
    const report: ApplyReport = {
      project: desired.project,
      dryRun: opts.dryRun ?? false,
      results,
      unchanged: p.unchanged,
      durationMs: performance.now() - started,
      ok: results.every((r) => r.ok) && egressResults.every((r) => r.ok),
      ...(opts.signal?.aborted ? { interrupted: true } : {}),
      ...(egressResults.length > 0 && { egress: egressResults }),
    };
    return { plan: p, report, withheld };
  } finally {
    await sweep;
    await release();
  }
}

/** fromCode: no declared agent may be one a file (still there) manages. */
function refuseFileManaged(desired: DesiredState, observed: ObservedState, adoptable: boolean): void {
  const declared = new Set(desired.agents.map((a) => a.id));
  for (const c of observed.containers) {
    const file = c.labels[LABEL.file];
    if (c.temporary || !declared.has(c.agentId) || file === undefined) continue;
    // A file that no longer exists (moved, renamed) manages nothing: its agents are adoptable.
    if (observed.otherFiles?.[file] !== true) continue;
    throw new FileManagedAgentError(c.agentId, desired.project, file, c.name, adoptable);
  }
}

/** The one engine of a one-engine run, as the shared steps take it. */
function part(desired: DesiredState, observed: ObservedState, p: Plan, port: DockerPort): EnginePart {
  return { engine: LOCAL_ENGINE, desired, observed, plan: p, port, host: localHostFs };
}

/** How the shared executor is driven, from apply's options (one-engine and fleet apply alike). */
export function carryOutOptions(
  desired: DesiredState,
  secrets: SecretValues,
  opts: ApplyOptions,
): CarryOutOptions {
  return {
    project: desired.project,
    file: desired.realFile,
    parallel: opts.parallel ?? 4,
    stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 10,
    onProgress: opts.onProgress,
    signal: opts.signal,
    secrets,
    waitReadyMs: opts.waitReadyMs ?? 0,
    onSettleWait: opts.onSettleWait,
  };
}

/** createOnly: each declared agent's plan must be exactly one create (no container of it anywhere). */
function refuseExisting(desired: DesiredState, p: Plan, observed: ObservedState): void {
  for (const agent of desired.agents) {
    const steps = p.actions.filter((a) => a.agentId === agent.id);
    if (steps.length === 1 && steps[0]?.kind === 'create') continue;
    throw new AgentExistsError(
      agent.id,
      desired.project,
      observed.containers.filter((c) => c.agentId === agent.id),
    );
  }
}

/**
 * A file that declares no agents while the project has some is far more likely truncated or half-saved
 * than a wish to delete the fleet: refuse unless the caller says so.
 */
export function refuseEmptyTeardown(
  desired: DesiredState,
  observed: ObservedState,
  allowEmpty = false,
): void {
  if (desired.agents.length > 0 || observed.containers.length === 0 || allowEmpty) return;
  throw new AgentctlError(
    'unsafe',
    `${desired.file} declares no agents, but project "${desired.project}" has ${observed.containers.length} container(s); refusing to remove them all`,
    { optIn: 'allowEmpty' },
  );
}
