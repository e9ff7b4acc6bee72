/**
 * What apply will do before its plan, and what would stop it, found without changing anything: the
 * images it builds first, the problems it refuses the run for (preflight, the mass-removal and
 * second-file guards), and the warnings it prints. diff shows these, so that a CI job learns from a diff
 * that the apply would fail. Read-only: it looks at the engine and the filesystem, like preflight.
 */
import type { DockerPort } from '../docker/port.js';
import { localHostFs } from '../docker/local-host-fs.js';
import type { PlannedBuild } from '../reconcile/builds.js';
import type { FreeSpaceMinimum } from '../reconcile/free-space.js';
import type { RunProblem } from '../reconcile/guards.js';
import { type DesiredState, LOCAL_ENGINE, type ObservedState, type Plan } from '../types.js';
import { checkParts } from './engine-part.js';

export interface ApplyCheck {
  /** The images apply builds before it plans, sorted by tag. */
  builds: PlannedBuild[];
  /** What apply would refuse the run for (any: it changes nothing). Name conflicts are in the plan. */
  problems: RunProblem[];
  /** What apply would warn about and go on (host-wide limits, a full disk on a run creating nothing). */
  warnings: string[];
}

export interface ApplyCheckOptions {
  builds: PlannedBuild[];
  targeted?: ReadonlySet<string>;
  minFree?: FreeSpaceMinimum;
  allowMassPrune?: boolean;
  allowForeignPrune?: boolean;
  allowForeignChange?: boolean;
}

/** apply's refusals and warnings for `p`, with the planned builds counted as present. */
export async function checkApply(
  desired: DesiredState,
  observed: ObservedState,
  p: Plan,
  port: DockerPort,
  opts: ApplyCheckOptions,
): Promise<ApplyCheck> {
  // The same checks fleet diff makes per engine (ops/engine-part.ts), over this one engine.
  const part = { engine: LOCAL_ENGINE, desired, observed, plan: p, port, host: localHostFs };
  const { problems, warnings } = await checkParts(desired, [part], {
    ...opts,
    willBuild: new Set(opts.builds.map((b) => b.image)),
  });
  return { builds: [...opts.builds].sort((a, b) => a.image.localeCompare(b.image)), problems, warnings };
}
