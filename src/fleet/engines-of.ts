/** The engines of a desired state, with the implicit `local` filled in. Pure. */
import { AgentctlError } from '../errors.js';
import { type AgentSpec, type DesiredState, type EngineSpec, LOCAL_ENGINE } from '../types.js';

/** Sorted by name, `local` always present (its runtimeDir is the file's top-level one). */
export function enginesOf(desired: Pick<DesiredState, 'engines' | 'runtimeDir'>): EngineSpec[] {
  const list = desired.engines ?? [];
  if (list.some((e) => e.name === LOCAL_ENGINE)) return list;
  return [{ name: LOCAL_ENGINE, runtimeDir: desired.runtimeDir }, ...list].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

export function engineOf(spec: Pick<AgentSpec, 'engine'>): string {
  return spec.engine ?? LOCAL_ENGINE;
}

/**
 * Whether the file declares engines other than `local`: then ps, down and cleanup look at each engine and
 * ids are looked up engine by engine. A type guard, so a caller holding an optional file keeps it typed.
 */
export function hasOtherEngines<T extends Pick<DesiredState, 'engines'>>(
  desired: T | undefined,
): desired is T & { engines: EngineSpec[] } {
  return (desired?.engines ?? []).some((e) => e.name !== LOCAL_ENGINE);
}

/** Whether the file uses any engine but `local` (commands that drive one engine only refuse it). */
export function usesOtherEngines(desired: Pick<DesiredState, 'engines' | 'agents'>): boolean {
  return desired.agents.some((a) => engineOf(a) !== LOCAL_ENGINE);
}

/**
 * For operations that drive one engine only: a file placing agents on other engines is refused, never
 * carried out on `local` alone (which would create them in the wrong place, or miss them).
 */
export function refuseOtherEngines(
  desired: Pick<DesiredState, 'engines' | 'agents' | 'file'>,
  what: string,
): void {
  const others = (desired.engines ?? []).map((e) => e.name).filter((e) => e !== LOCAL_ENGINE);
  if (others.length === 0) return;
  throw new AgentctlError(
    'usage',
    `${what} of a file with engines other than local (${others.join(', ')}) is not supported yet; nothing was changed`,
  );
}
