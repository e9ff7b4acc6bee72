/**
 * diff and apply over every engine of the file: observe each engine in parallel (one that cannot be
 * reached withholds its own agents and is reported), plan the fleet (fleet/plan.ts), preflight each
 * engine against its own info and host, then carry each engine's part out on that engine's port, and
 * the migrations after them. One lock per project, on this host, as for one engine.
 */
import type { OpenEngine } from '../docker/engines.js';
import { executeEgress } from '../egress/execute.js';
import { ensureGatewayImage } from '../egress/gateway-image.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { type BuildPolicy, type PlannedBuild, plannedBuilds } from '../reconcile/builds.js';
import { resolveTargets, targetBuilds, targetPlan } from '../reconcile/target.js';
import type { ApplyCheck } from '../ops/apply-check.js';
import { observe, type ObserveOptions } from '../reconcile/observe.js';
import { type PreflightProblem, preflightError } from '../reconcile/preflight.js';
import { buildImages } from '../ops/build.js';
import { portOf } from '../ops/context.js';
import {
  carryOut,
  type EnginePart,
  guardRun,
  preflightRun,
  hostWarnings,
  checkParts,
  withoutAgents,
  withoutAgentsIn,
} from '../ops/engine-part.js';
import {
  type ApplyOptions,
  carryOutOptions,
  type DiffOptions,
  type ReconcileResult,
  refuseEmptyTeardown,
  resolveFor,
  runLock,
  takeOverOf,
} from '../ops/reconcile.js';
import type { SecretValues } from '../secrets/values.js';
import {
  type ActionResult,
  type ApplyReport,
  type DesiredState,
  type EgressAction,
  LOCAL_ENGINE,
  type MigrationResult,
  type Plan,
} from '../types.js';
import { openFileEngines } from './open-engines.js';
import { migrate } from './migrate.js';
import { type FleetObserved, type FleetPlan, desiredOn, planFleet } from './plan.js';

export interface FleetDiffOptions extends DiffOptions {
  /** Plan moves between engines as migrations (otherwise a move is a conflict). */
  migrate?: boolean;
  /** How observe inspects a container on each engine (the watcher's InspectCache of that engine). */
  inspectOn?: (engine: string) => ObserveOptions['inspect'];
}

export interface FleetApplyOptions extends ApplyOptions, FleetDiffOptions {
  onMigrationStep?: (agent: string, step: string) => void;
}

export interface FleetDiffResult {
  plan: Plan;
  fleet: FleetPlan;
  observed: FleetObserved;
  engines: Map<string, OpenEngine>;
  /** With `targets`: the agent ids they name (on whichever engines they live). */
  targeted?: ReadonlySet<string>;
}

/** diffFleet's result: the plan, and apply's check of it (builds, problems, warnings). */
export interface FleetDiffReport extends FleetDiffResult {
  check: ApplyCheck;
}

/** Every engine of the file, opened for this run (an engine that cannot be driven at all refuses it). */
export async function openFleet(desired: DesiredState, opts: DiffOptions): Promise<Map<string, OpenEngine>> {
  const { open, failed } = await openFileEngines(desired, portOf(opts), { fresh: true });
  if (failed[0]) throw failed[0].error;
  return new Map(open.map((e) => [e.name, e]));
}

export async function observeFleet(
  desired: DesiredState,
  engines: ReadonlyMap<string, OpenEngine>,
  inspectOn?: FleetDiffOptions['inspectOn'],
): Promise<FleetObserved> {
  const entries = await Promise.all(
    [...engines.values()].map(async (e) => {
      try {
        const observed = await observe(e.port, desiredOn(desired, e.spec), { inspect: inspectOn?.(e.name) });
        return [e.name, { ok: true as const, observed }];
      } catch (err) {
        return [e.name, { ok: false as const, message: toAgentctlError(err).message }];
      }
    }),
  );
  return Object.fromEntries(entries) as FleetObserved;
}

export async function diffFleet(
  desired: DesiredState,
  opts: FleetDiffOptions = {},
): Promise<FleetDiffReport> {
  const { desired: resolved } = await resolveFor(desired, { create: false, env: opts.env });
  const engines = await openFleet(resolved, opts);
  const d = await diffResolved(resolved, engines, opts);
  const builds = localBuilds(resolved, d, opts.build);
  // The checks apply makes, over every engine's part (ops/engine-part.ts).
  const { problems, warnings } = await checkParts(resolved, partsOf(resolved, d), {
    willBuild: new Set(builds.map((b) => b.image)),
    minFree: opts.minFree,
    targeted: d.targeted,
    allowForeignChange: opts.allowForeignChange,
  });
  return {
    ...d,
    check: { builds: [...builds].sort((x, y) => x.image.localeCompare(y.image)), problems, warnings },
  };
}

/** Builds run on the local engine only (the config refuses build: elsewhere); with targets, theirs. */
function localBuilds(
  desired: DesiredState,
  d: FleetDiffResult,
  policy: BuildPolicy | undefined,
): PlannedBuild[] {
  const local = d.engines.get(LOCAL_ENGINE) as OpenEngine;
  const o = d.observed[LOCAL_ENGINE];
  if (!o?.ok) return [];
  const all = plannedBuilds(desiredOn(desired, local.spec), o.observed, policy ?? 'missing');
  return d.targeted ? targetBuilds(all, d.targeted) : all;
}

async function diffResolved(
  desired: DesiredState,
  engines: Map<string, OpenEngine>,
  opts: FleetDiffOptions,
): Promise<FleetDiffResult> {
  const observed = await observeFleet(desired, engines, opts.inspectOn);
  const all = Object.values(observed).flatMap((o) => (o.ok ? o.observed.containers : []));
  const fleet = planFleet(desired, observed, {
    prune: opts.prune,
    migrate: opts.migrate,
    takeOver: takeOverOf(opts),
  });
  if (opts.targets?.length) {
    // As one engine's --target: the whole plan first, then cut down to the targets, here on every
    // engine that holds one of them (a stray copy, a move's two ends).
    const unreachable = Object.entries(observed).flatMap(([name, o]) => (o.ok ? [] : [name]));
    const targeted = resolveTargets(opts.targets, desired, { containers: all }, { unreachable });
    const cut = (p: Plan) => targetPlan(p, targeted, desired, opts.targets);
    const perEngine = Object.fromEntries(Object.entries(fleet.perEngine).map(([n, p]) => [n, cut(p)]));
    const plan = cut(fleet.plan);
    return { plan, fleet: { plan, perEngine }, observed, engines, targeted };
  }
  refuseEmptyTeardown(
    desired,
    { project: desired.project, containers: all, images: {}, foreign: [] },
    opts.allowEmpty,
  );
  return { plan: fleet.plan, fleet, observed, engines };
}

export async function reconcileFleet(
  desired: DesiredState,
  opts: FleetApplyOptions = {},
): Promise<ReconcileResult> {
  // createOnly makes one new agent on one engine (createAgent, run: the local one); a desired state
  // with engines: is converged whole or by targets, never half-checked for "new" on one engine.
  if (opts.createOnly)
    throw new AgentctlError(
      'usage',
      'createOnly does not apply to a desired state with engines:; it makes one agent on one engine',
    );
  const started = performance.now();
  const engines = await openFleet(desired, opts);
  const local = engines.get(LOCAL_ENGINE) as OpenEngine;
  const release = await runLock(desired.project, opts);
  const sweeps = opts.dryRun
    ? []
    : [...engines.values()].map((e) => e.port.removeLeftoverScratch().catch(() => 0));
  try {
    const secrets = await resolveFor(desired, { create: !opts.dryRun, env: opts.env });
    desired = secrets.desired;
    let d = await diffResolved(desired, engines, opts);
    // The same guards as one-engine apply, over every engine's part at once.
    const foreign = guardRun(desired, partsOf(desired, d), opts, d.targeted);
    const held = new Set(foreign.flatMap((x) => x.agents));
    const builds = localBuilds(desired, d, opts.build);
    const failedBuilds = new Map<string, string>();
    if (builds.length > 0 && !opts.dryRun) {
      const failed = (await buildImages(builds, { ...opts.buildOptions, port: local.port })).filter(
        (b) => !b.ok,
      );
      if (failed.length > 0 && !opts.withholdFailing)
        throw new AgentctlError('preflight', `image build failed, nothing was changed: ${failed[0]?.error}`, {
          details: failed.slice(1).map((f) => f.error ?? f.image),
        });
      for (const f of failed) failedBuilds.set(f.image, f.error ?? 'build failed');
      d = await diffResolved(desired, engines, opts);
    }
    const localPlan = d.fleet.perEngine[LOCAL_ENGINE];
    if (
      !opts.dryRun &&
      localPlan?.egress?.some((a) => a.kind === 'create-gateway' || a.kind === 'recreate-gateway')
    ) {
      const o = d.observed[LOCAL_ENGINE];
      if (o?.ok && !o.observed.egress?.gatewayImageId) {
        await ensureGatewayImage(local.port);
        d = await diffResolved(desired, engines, opts);
      }
    }
    // Watch's repair back-off takes whole agents back; so do another file's agents, withheld.
    let merged = d.plan;
    const out = held;
    if (opts.holdBack) {
      const kept = new Set(opts.holdBack(merged).actions.map((a) => a.agentId));
      for (const a of merged.actions) if (!kept.has(a.agentId)) out.add(a.agentId);
    }
    merged = withoutAgents(merged, out);
    const checked = await preflightRun(
      partsOf(desired, d).map((x) => withoutAgentsIn(x, out)),
      {
        willBuild: new Set(opts.dryRun ? builds.map((b) => b.image) : []),
        failedBuilds,
        minFree: opts.minFree,
        withholdFailing: opts.withholdFailing,
      },
    );
    const withheld: PreflightProblem[] = [...foreign, ...checked.withheld];
    merged = withoutAgents(merged, new Set(checked.withheld.flatMap((w) => w.agents)));
    opts.onPlan?.(merged);
    if (checked.problems.length > 0) throw preflightError(checked.problems);
    if (opts.onHostWarning)
      for (const w of await hostWarnings(checked.parts, { minFree: opts.minFree, hostLimits: !opts.dryRun }))
        opts.onHostWarning(w);
    if (opts.dryRun)
      return { plan: merged, report: report(desired, merged, [], [], [], started, true), withheld };

    const egressSteps = d.fleet.perEngine[LOCAL_ENGINE]?.egress ?? [];
    const isTeardown = (a: EgressAction) => a.kind === 'remove-gateway' || a.kind === 'remove-network';
    const egressOpts = {
      project: desired.project,
      runtimeDir: desired.runtimeDir,
      onProgress: opts.onEgressProgress,
    };
    const egressResults = await executeEgress(
      egressSteps.filter((a) => !isTeardown(a)),
      local.port,
      egressOpts,
    );
    // Each engine's part on its port, then one settle wait: the same function one-engine apply calls.
    const results = await carryOut(checked.parts, carryOutOptions(desired, secrets.values, opts));
    const migrations = await runMigrations(merged, engines, desired, secrets.values, opts);
    egressResults.push(...(await executeEgress(egressSteps.filter(isTeardown), local.port, egressOpts)));
    return {
      plan: merged,
      report: report(desired, merged, results, migrations, egressResults, started, false, opts.signal),
      withheld,
    };
  } finally {
    await Promise.all(sweeps);
    await release();
  }
}

/** Every reachable engine's share of the run, as the steps shared with one-engine apply take it. */
function partsOf(desired: DesiredState, d: FleetDiffResult): EnginePart[] {
  return Object.entries(d.fleet.perEngine).flatMap(([name, p]) => {
    const e = d.engines.get(name) as OpenEngine;
    const o = d.observed[name];
    if (!o?.ok) return [];
    // A migration's target is checked like a create there.
    const incoming = (d.plan.migrations ?? [])
      .filter((m) => m.to === name)
      .map((m) => ({ kind: 'create' as const, agentId: m.agentId, spec: m.spec, cause: m.cause }));
    return [
      {
        engine: name,
        desired: desiredOn(desired, e.spec),
        observed: o.observed,
        plan: p,
        port: e.port,
        host: e.host,
        ...(incoming.length > 0 && { incoming }),
      },
    ];
  });
}

async function runMigrations(
  p: Plan,
  engines: Map<string, OpenEngine>,
  desired: DesiredState,
  secrets: SecretValues,
  opts: FleetApplyOptions,
): Promise<MigrationResult[]> {
  const out: MigrationResult[] = [];
  // One at a time: each copies a whole /mnt through this process.
  for (const m of p.migrations ?? []) {
    if (opts.signal?.aborted) break;
    out.push(
      await migrate(m, engines, {
        project: desired.project,
        stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 10,
        secrets,
        onStep: (mig, step) => opts.onMigrationStep?.(mig.agentId, step),
      }),
    );
  }
  return out;
}

function report(
  desired: DesiredState,
  p: Plan,
  results: ActionResult[],
  migrations: MigrationResult[],
  egress: ApplyReport['egress'] & object,
  started: number,
  dryRun: boolean,
  signal?: AbortSignal,
): ApplyReport {
  return {
    project: desired.project,
    dryRun,
    results,
    unchanged: p.unchanged,
    durationMs: performance.now() - started,
    ok:
      results.every((r) => r.ok) &&
      migrations.every((m) => m.ok) &&
      egress.every((r) => r.ok) &&
      (p.unreachable ?? []).length === 0,
    ...(signal?.aborted ? { interrupted: true } : {}),
    ...(egress.length > 0 && { egress }),
    ...(migrations.length > 0 && { migrations }),
    ...(p.unreachable && { unreachable: p.unreachable }),
  };
}
