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
  return desired.builds.filter((b) => policy === 'always' || !observed.images[b.image]);
}
