/**
 * apply and diff: observe -> plan -> (preflight -> execute). The library entry points behind the CLI.
 */
import { AgentctlError } from '../errors.js';
import { acquireLock } from '../lock.js';
import { execute, type ProgressEvent } from '../reconcile/execute.js';
import { observe } from '../reconcile/observe.js';
import { plan } from '../reconcile/plan.js';
import { type BuildPolicy, imagesToBuild } from '../reconcile/builds.js';
import { preflight } from '../reconcile/preflight.js';
import { type BuildOptions, buildImages } from './build.js';
import type { ApplyReport, DesiredState, ObservedState, Plan } from '../types.js';
import { type OpContext, portOf } from './context.js';

export interface DiffOptions extends OpContext {
  prune?: boolean;
  allowEmpty?: boolean;
}

export interface ApplyOptions extends DiffOptions {
  dryRun?: boolean;
  /** Which declared images to build before planning (default `missing`). */
  build?: BuildPolicy;
  buildOptions?: Omit<BuildOptions, 'port'>;
  /** Agents worked on at once (default 4). */
  parallel?: number;
  /** Grace period in seconds for stopping containers (default 10). */
  stopTimeoutSeconds?: number;
  /** How long to wait for another run holding the project's lock (default 0: fail at once). */
  lockWaitMs?: number;
  onLockWait?: (holder: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /** Called with the plan before anything is changed. */
  onPlan?: (p: Plan) => void;
  /** The caller holds the project's lock already (the watch controller holds it for its whole life). */
  lockHeld?: boolean;
  /** Takes part of the plan back before preflight (the watch controller's per-agent repair back-off). */
  holdBack?: (p: Plan) => Plan;
}

export interface DiffResult {
  plan: Plan;
  observed: ObservedState;
}

/** Compute the plan without changing anything. */
export async function diff(desired: DesiredState, opts: DiffOptions = {}): Promise<DiffResult> {
  const observed = await observe(portOf(opts), desired);
  refuseEmptyTeardown(desired, observed, opts.allowEmpty);
  return { plan: plan(desired, observed, { prune: opts.prune }), observed };
}

/** Converge the engine to the desired state. Never throws for a failed action: see report.ok. */
export async function reconcile(
  desired: DesiredState,
  opts: ApplyOptions = {},
): Promise<{ plan: Plan; report: ApplyReport }> {
  const started = performance.now();
  const port = portOf(opts);
  const release =
    opts.dryRun || opts.lockHeld
      ? async () => undefined
      : await acquireLock(desired.project, { waitMs: opts.lockWaitMs, onWait: opts.onLockWait });
  try {
    let { plan: p, observed } = await diff(desired, opts);
    const builds = imagesToBuild(desired, observed, opts.build ?? 'missing');
    if (builds.length > 0 && !opts.dryRun) {
      const failed = (await buildImages(builds, { ...opts.buildOptions, port })).filter((b) => !b.ok);
      if (failed.length > 0) {
        throw new AgentctlError('preflight', `image build failed, nothing was changed: ${failed[0]?.error}`, {
          details: failed.slice(1).map((f) => f.error ?? f.image),
        });
      }
      // The new image ids decide which agents are recreated: look again.
      ({ plan: p, observed } = await diff(desired, opts));
    }
    if (opts.holdBack) p = opts.holdBack(p);
    opts.onPlan?.(p);
    if (p.actions.length > 0 || p.conflicts.length > 0) {
      // In a dry run nothing is built: an image that would be is not "missing".
      const willBuild = new Set(opts.dryRun ? builds.map((b) => b.image) : []);
      await preflight(desired, observed, p, port, await port.info(), willBuild);
    }
    const results = opts.dryRun
      ? []
      : await execute(p, port, {
          project: desired.project,
          runtimeDir: desired.runtimeDir,
          parallel: opts.parallel ?? 4,
          stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 10,
          onProgress: opts.onProgress,
        });
    const report: ApplyReport = {
      project: desired.project,
      dryRun: opts.dryRun ?? false,
      results,
      unchanged: p.unchanged,
      durationMs: performance.now() - started,
      ok: results.every((r) => r.ok),
    };
    return { plan: p, report };
  } finally {
    await release();
  }
}

/**
 * A file that declares no agents while the project has some is far more likely truncated or half-saved
 * than a wish to delete the fleet: refuse unless the caller says so.
 */
function refuseEmptyTeardown(desired: DesiredState, observed: ObservedState, allowEmpty = false): void {
  if (desired.agents.length > 0 || observed.containers.length === 0 || allowEmpty) return;
  throw new AgentctlError(
    'unsafe',
    `${desired.file} declares no agents, but project "${desired.project}" has ${observed.containers.length} container(s); refusing to remove them all (pass --allow-empty if that is what you want)`,
  );
}
