/** Which declared images a run must build: pure, like the planner. */
import type { DesiredState, ImageBuild, ObservedState } from '../types.js';

/**
 * `missing` (apply's default): only images not on the engine, so a fresh host works with nothing built
 * in advance; `always` (apply --build, agentctl build): every declared image; `never`: none.
 */
export type BuildPolicy = 'missing' | 'always' | 'never';

export function imagesToBuild(
  desired: DesiredState,
  observed: ObservedState,
  policy: BuildPolicy,
): ImageBuild[] {
  if (policy === 'never') return [];
  return desired.builds
    .filter((b) => policy === 'always' || !observed.images[b.image])
    .map((b) => ({ ...b, agents: usersOf(b.image, desired) }));
}

/**
 * Every agent whose image is the tag, not only those that declare the build: a targeted run of an agent
 * that only names the tag needs the build too, and the messages name everyone waiting for it.
 */
function usersOf(image: string, desired: Pick<DesiredState, 'agents'>): string[] {
  return desired.agents.filter((a) => a.image === image).map((a) => a.id);
}

/**
 * Why a build is planned: `missing`, the tag is not on the engine; `rebuild`, it is, and the policy is
 * `always`. Whether the context changed since the tag was built is not known: nothing records it.
 */
export type BuildReason = 'missing' | 'rebuild';

/** A build apply will run before it plans, and why (what diff shows). */
export interface PlannedBuild extends ImageBuild {
  reason: BuildReason;
}

export function plannedBuilds(
  desired: DesiredState,
  observed: ObservedState,
  policy: BuildPolicy,
): PlannedBuild[] {
  return imagesToBuild(desired, observed, policy).map((b) => ({
    ...b,
    reason: observed.images[b.image] ? 'rebuild' : 'missing',
  }));
}
