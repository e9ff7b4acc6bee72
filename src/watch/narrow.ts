/**
 * A saved change of a few agents is reconciled for those agents alone: their containers listed (one
 * list call each), planned and changed, instead of listing and planning the whole project. At 1000
 * agents the project's list and the plan of every agent were most of the time from save to converged;
 * the engine's own time for one agent is tens of milliseconds.
 *
 * Why the rest may be left out: the other agents' specs are the ones the last reconcile applied, and
 * whatever happened to their containers since comes with an engine event, which triggers a reconcile
 * of its own (of the whole project); the periodic resync looks at everything afresh anyway. Whatever
 * needs the whole project is not narrowed: a removal (pruning and its mass-removal guard), a change of
 * anything but the agents, egress (its gateway is shared), several engines, or many agents changed.
 */
import { canonicalJson } from '../spec-hash.js';
import type { DesiredState } from '../types.js';
import type { SpecKeys } from './backoff.js';

/** More changed agents than this: one list of the project costs less than a list per agent. */
export const MAX_NARROWED = 8;

/**
 * The agents whose spec `after` changes from what the last reconcile applied (or new ones), when a
 * reconcile of them alone converges the change; undefined when the whole project must be reconciled.
 */
export function changedAgents(
  before: DesiredState,
  after: DesiredState,
  applied: SpecKeys,
  keys: SpecKeys,
  max = MAX_NARROWED,
): Set<string> | undefined {
  if (before.engines || after.engines) return undefined;
  if (before.agents.some((a) => a.egress) || after.agents.some((a) => a.egress)) return undefined;
  if (restKey(before) !== restKey(after)) return undefined;
  // Removed since the file before, or since what was applied: the whole project decides the prune.
  if (before.agents.some((a) => keys[a.id] === undefined)) return undefined;
  if (Object.keys(applied).some((id) => keys[id] === undefined)) return undefined;
  const changed = new Set<string>();
  for (const [id, key] of Object.entries(keys)) {
    if (applied[id] === key) continue;
    changed.add(id);
    if (changed.size > max) return undefined;
  }
  return changed;
}

/** The desired state of `agents` only: their specs, secrets and the builds of their images. */
export function narrowed(desired: DesiredState, agents: ReadonlySet<string>): DesiredState {
  const specs = desired.agents.filter((a) => agents.has(a.id));
  const images = new Set(specs.map((a) => a.image));
  const secrets = desired.secrets?.filter((x) => agents.has(x.agentId));
  const { secrets: _all, ...rest } = desired;
  return {
    ...rest,
    agents: specs,
    builds: desired.builds
      .filter((b) => images.has(b.image))
      .map((b) => ({ ...b, agents: b.agents.filter((id) => agents.has(id)) })),
    ...(secrets?.length ? { secrets } : {}),
  };
}

/** Everything of the file but its agents (and where things were written). */
function restKey(d: DesiredState): string {
  return canonicalJson({
    file: d.file,
    realFile: d.realFile ?? null,
    project: d.project,
    runtimeDir: d.runtimeDir,
    namePrefix: d.namePrefix,
    builds: d.builds.map(({ agents: _agents, ...b }) => b),
  });
}
