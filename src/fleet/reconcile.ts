/**
 * diff and apply over every engine of the file: observe each engine in parallel (one that cannot be
 * reached withholds its own agents and is reported), plan the fleet (fleet/plan.ts), preflight each
 * engine against its own info and host, then carry each engine's part out on that engine's port, and
 * the migrations after them. One lock per project, on this host, as for one engine.
 */
import { type OpenEngine, openEngine } from '../docker/engines.js';
import { executeEgress } from '../egress/execute.js';
import { ensureGatewayImage } from '../egress/gateway-image.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { acquireLock } from '../lock.js';
import { type BuildPolicy, type PlannedBuild, plannedBuilds } from '../reconcile/builds.js';
import type { RunProblem } from '../reconcile/guards.js';
import type { ApplyCheck } from '../ops/apply-check.js';
import { execute } from '../reconcile/execute.js';
import { describeMassRemoval, massRemoval } from '../reconcile/mass-prune.js';
import { observe } from '../reconcile/observe.js';
import { type PreflightProblem, preflightError, preflightProblems } from '../reconcile/preflight.js';
import { buildImages } from '../ops/build.js';
import { portOf } from '../ops/context.js';
import { type ApplyOptions, type DiffOptions, refuseEmptyTeardown, resolveFor } from '../ops/reconcile.js';
import { waitReady } from '../ops/wait-ready.js';
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
import { enginesOf } from './engines-of.js';
import { migrate } from './migrate.js';
import { type FleetObserved, type FleetPlan, desiredOn, planFleet } from './plan.js';

export interface FleetDiffOptions extends DiffOptions {
  /** Plan moves between engines as migrations (otherwise a move is a conflict). */
  migrate?: boolean;
}

export interface FleetApplyOptions extends ApplyOptions, FleetDiffOptions {
  onMigrationStep?: (agent: string, step: string) => void;
}

export interface FleetDiffResult {
  plan: Plan;
  fleet: FleetPlan;
  observed: FleetObserved;
  engines: Map<string, OpenEngine>;
}

/** diffFleet's result: the plan, and apply's check of it (builds, problems; no host warnings here). */
export interface FleetDiffReport extends FleetDiffResult {
  check: ApplyCheck;
}

/** Every engine of the file, opened (an engine that cannot be driven at all refuses the run). */
export function openFleet(desired: DesiredState, opts: DiffOptions): Map<string, OpenEngine> {
  const localPort = portOf(opts);
  return new Map(enginesOf(desired).map((e) => [e.name, openEngine(e, { localPort })]));
}

export async function observeFleet(
  desired: DesiredState,
  engines: ReadonlyMap<string, OpenEngine>,
): Promise<FleetObserved> {
  const entries = await Promise.all(
    [...engines.values()].map(async (e) => {
      try {
        return [e.name, { ok: true as const, observed: await observe(e.port, desiredOn(desired, e.spec)) }];
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
  if (opts.targets)
    throw new AgentctlError(
      'usage',
      '--target does not work on a file with engines: yet; diff the whole file',
    );
  const { desired: resolved } = await resolveFor(desired, { create: false, env: opts.env });
  const d = await diffResolved(resolved, openFleet(resolved, opts), opts);
  const builds = localBuilds(resolved, d, opts.build);
  const mass = massPruneProblem(resolved, d);
  const problems = await fleetPreflight(
    resolved,
    d,
    new Set(builds.map((b) => b.image)),
    opts.minFree,
    false,
  );
  return { ...d, check: { builds, problems: [...(mass ? [mass] : []), ...problems], warnings: [] } };
}

/** Builds run on the local engine only (the config refuses build: elsewhere). */
function localBuilds(
  desired: DesiredState,
  d: FleetDiffResult,
  policy: BuildPolicy | undefined,
): PlannedBuild[] {
  const local = d.engines.get(LOCAL_ENGINE) as OpenEngine;
  const o = d.observed[LOCAL_ENGINE];
  return o?.ok ? plannedBuilds(desiredOn(desired, local.spec), o.observed, policy ?? 'missing') : [];
}

async function diffResolved(
  desired: DesiredState,
  engines: Map<string, OpenEngine>,
  opts: FleetDiffOptions,
): Promise<FleetDiffResult> {
  const observed = await observeFleet(desired, engines);
  const all = Object.values(observed).flatMap((o) => (o.ok ? o.observed.containers : []));
  refuseEmptyTeardown(
    desired,
    { project: desired.project, containers: all, images: {}, foreign: [] },
    opts.allowEmpty,
  );
  const fleet = planFleet(desired, observed, { prune: opts.prune, migrate: opts.migrate });
  return { plan: fleet.plan, fleet, observed, engines };
}

export async function reconcileFleet(
  desired: DesiredState,
  opts: FleetApplyOptions = {},
): Promise<{ plan: Plan; report: ApplyReport }> {
  if (opts.holdBack || opts.withholdFailing || opts.createOnly || opts.targets)
    throw new AgentctlError(
      'usage',
      'watch, run and --target do not drive a file with engines: yet; apply and diff the whole file',
    );
  const started = performance.now();
  const engines = openFleet(desired, opts);
  const local = engines.get(LOCAL_ENGINE) as OpenEngine;
  const release =
    opts.dryRun || opts.lockHeld
      ? async () => undefined
      : await acquireLock(desired.project, { waitMs: opts.lockWaitMs, onWait: opts.onLockWait });
  const sweeps = opts.dryRun
    ? []
    : [...engines.values()].map((e) => e.port.removeLeftoverScratch().catch(() => 0));
  try {
    const secrets = await resolveFor(desired, { create: !opts.dryRun, env: opts.env });
    desired = secrets.desired;
    let d = await diffResolved(desired, engines, opts);
    const mass = opts.allowMassPrune ? undefined : massPruneProblem(desired, d);
    if (mass) throw new AgentctlError('unsafe', mass.message, { optIn: mass.optIn });
    const builds = localBuilds(desired, d, opts.build);
    if (builds.length > 0 && !opts.dryRun) {
      const failed = (await buildImages(builds, { ...opts.buildOptions, port: local.port })).filter(
        (b) => !b.ok,
      );
      if (failed.length > 0)
        throw new AgentctlError('preflight', `image build failed, nothing was changed: ${failed[0]?.error}`);
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
    const problems = await fleetPreflight(
      desired,
      d,
      new Set(opts.dryRun ? builds.map((b) => b.image) : []),
      opts.minFree,
    );
    opts.onPlan?.(d.plan);
    if (problems.length > 0) throw preflightError(problems);
    if (opts.dryRun) return { plan: d.plan, report: report(desired, d.plan, [], [], [], started, true) };

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
    const perEngine = await Promise.all(
      Object.entries(d.fleet.perEngine).map(async ([name, p]) => {
        const e = engines.get(name) as OpenEngine;
        const finished = new Map<ActionResult, number>();
        let results = await execute(p, e.port, {
          project: desired.project,
          runtimeDir: e.spec.runtimeDir,
          file: desired.realFile,
          host: e.host,
          parallel: opts.parallel ?? 4,
          stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 10,
          onProgress: (ev) => {
            if (ev.type === 'end') finished.set(ev.result, Date.now());
            opts.onProgress?.(ev);
          },
          signal: opts.signal,
          secrets: secrets.values,
        });
        if ((opts.waitReadyMs ?? 0) > 0 && results.length > 0 && !opts.signal?.aborted)
          results = await waitReady(
            results,
            results.map((r) => finished.get(r) ?? Date.now()),
            e.port,
            { settleMs: opts.waitReadyMs ?? 0 },
          );
        return results;
      }),
    );
    const migrations = await runMigrations(d, engines, desired, secrets.values, opts);
    egressResults.push(...(await executeEgress(egressSteps.filter(isTeardown), local.port, egressOpts)));
    return {
      plan: d.plan,
      report: report(
        desired,
        d.plan,
        perEngine.flat(),
        migrations,
        egressResults,
        started,
        false,
        opts.signal,
      ),
    };
  } finally {
    await Promise.all(sweeps);
    await release();
  }
}

async function runMigrations(
  d: FleetDiffResult,
  engines: Map<string, OpenEngine>,
  desired: DesiredState,
  secrets: SecretValues,
  opts: FleetApplyOptions,
): Promise<MigrationResult[]> {
  const out: MigrationResult[] = [];
  // One at a time: each copies a whole /mnt through this process.
  for (const m of d.plan.migrations ?? []) {
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

/** Each engine's part checked against that engine; a migration's target is checked like a create. */
async function fleetPreflight(
  desired: DesiredState,
  d: FleetDiffResult,
  willBuild: ReadonlySet<string>,
  minFree: ApplyOptions['minFree'],
  /** Whether name conflicts count (apply: yes; diff shows them in the plan already). */
  conflicts = true,
): Promise<PreflightProblem[]> {
  const lists = await Promise.all(
    Object.entries(d.fleet.perEngine).map(async ([name, p]) => {
      const e = d.engines.get(name) as OpenEngine;
      const o = d.observed[name];
      if (!o?.ok) return [];
      const incoming = (d.plan.migrations ?? [])
        .filter((m) => m.to === name)
        .map((m) => ({ kind: 'create' as const, agentId: m.agentId, spec: m.spec, cause: m.cause }));
      const checked: Plan = {
        ...p,
        actions: [...p.actions, ...incoming],
        conflicts: conflicts ? p.conflicts : [],
      };
      if (checked.actions.length === 0 && checked.conflicts.length === 0) return [];
      const problems = await preflightProblems(
        desiredOn(desired, e.spec),
        o.observed,
        checked,
        e.port,
        await e.port.info(),
        {
          willBuild,
          host: e.host,
          minFree,
        },
      );
      return name === LOCAL_ENGINE
        ? problems
        : problems.map((x) => ({ ...x, message: `engine ${name}: ${x.message}` }));
    }),
  );
  return lists.flat();
}

function massPruneProblem(desired: DesiredState, d: FleetDiffResult): RunProblem | undefined {
  const existing = Object.values(d.observed).flatMap((o) =>
    o.ok ? o.observed.containers.filter((c) => !c.temporary).map((c) => c.agentId) : [],
  );
  const declared = new Set(desired.agents.map((a) => a.id));
  const pruned = new Set(
    d.plan.actions.filter((a) => a.kind === 'remove' && !declared.has(a.agentId)).map((a) => a.agentId),
  );
  const m = massRemoval(
    existing,
    existing.filter((id) => !pruned.has(id)),
  );
  if (!m) return undefined;
  return {
    message: `${desired.file} would remove ${describeMassRemoval(m)}; a truncated or half-saved file looks like this, so nothing was changed`,
    agents: m.removed,
    optIn: 'allowMassPrune',
  };
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
