/**
 * The refusals of a whole run that are decided from the plan alone (pure): a mass removal, and changes of
 * agents another file created. apply throws them; diff lists them among the problems apply would stop on.
 */
import type { OptIn } from '../errors.js';
import type { DesiredState, ObservedState, Plan } from '../types.js';
import { describeForeign, foreignActions } from './file-owner.js';
import { describeMassRemoval, massRemoval } from './mass-prune.js';

/** What would stop a run, and which agents it stops (empty: the whole run). */
export interface RunProblem {
  /** `file:line:col: message` where a position is known. */
  message: string;
  /** The agents it stops, sorted; empty when it stops the whole run (the runtime directory...). */
  agents: string[];
  /** The caller's option that would let the run go ahead (the CLI names its flag). */
  optIn?: OptIn;
}

/**
 * A file cut short (4 of 20 agents left) still parses: pruning would tear most of the fleet down. Agents
 * are counted as the engine has them; only prune removals count (leftovers and duplicates do not).
 */
export function massPruneProblem(
  desired: Pick<DesiredState, 'agents' | 'file'>,
  p: Plan,
  observed: Pick<ObservedState, 'containers'>,
  targeted: ReadonlySet<string> | undefined,
): RunProblem | undefined {
  // Another file's agents have a guard of their own (and a file that never declared them is not cut short).
  const others = new Set(p.actions.filter((a) => a.createdBy !== undefined).map((a) => a.agentId));
  // A targeted run is judged on its target alone: the rest of the fleet is not touched.
  const existing = observed.containers
    .filter((c) => !c.temporary && !others.has(c.agentId) && (!targeted || targeted.has(c.agentId)))
    .map((c) => c.agentId);
  const declared = new Set(desired.agents.map((a) => a.id));
  const pruned = new Set(
    p.actions
      .filter((a) => a.kind === 'remove' && !declared.has(a.agentId) && a.createdBy === undefined)
      .map((a) => a.agentId),
  );
  const m = massRemoval(
    existing,
    existing.filter((id) => !pruned.has(id)),
  );
  if (!m) return undefined;
  return {
    message: `${desired.file} would remove ${describeMassRemoval(m, targeted ? 'the targeted' : undefined)}; a truncated or half-saved file looks like this, so nothing was changed`,
    agents: m.removed,
    optIn: 'allowMassPrune',
  };
}

/**
 * Removals and changes of agents another file (naming the same project, still there) created, that the
 * caller has not allowed: one problem per kind (removal, change) naming the other file(s).
 */
export function foreignProblems(
  desired: Pick<DesiredState, 'file' | 'project'>,
  p: Plan,
  allow: { allowForeignPrune?: boolean; allowForeignChange?: boolean },
): RunProblem[] {
  const { prunes, changes } = foreignActions(p.actions);
  const why = `another file names project "${desired.project}" too, so nothing of theirs was changed (or give one file another project)`;
  const out: RunProblem[] = [];
  const ids = (as: typeof prunes) => [...new Set(as.map((a) => a.agentId))].sort();
  if (prunes.length > 0 && !allow.allowForeignPrune)
    out.push({
      message: `${desired.file} would remove ${describeForeign(prunes)}; ${why}`,
      agents: ids(prunes),
      optIn: 'allowForeignPrune',
    });
  if (changes.length > 0 && !allow.allowForeignChange)
    out.push({
      message: `${desired.file} would change ${describeForeign(changes)}; ${why}`,
      agents: ids(changes),
      optIn: 'allowForeignChange',
    });
  return out;
}
