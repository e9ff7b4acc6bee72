/**
 * Which file created each agent, for a project that two files name. Every container records the real
 * path of the file whose apply created it (LABEL.file). Against another file that still exists, this
 * file's removals and changes of that file's agents are marked (`createdBy`) for apply to refuse unless
 * told: two files naming one project would otherwise prune, or fight over, each other's agents.
 *
 * A recorded file that no longer exists was moved or renamed (or its checkout is now elsewhere): its
 * agents are adopted by the file that declares them now, with a note, never guarded, so that a moved
 * repository does not look foreign forever. An agent without the label (stdin, an older agentctl) is
 * adoptable by any file, silently: there is nothing to tell.
 *
 * Pure: whether a file exists is observed (ObservedState.otherFiles).
 */
import { someOf } from '../render/some-of.js';
import { LABEL } from '../labels.js';
import type { Action, AdoptedAgent, DesiredState, ObservedContainer, ObservedState } from '../types.js';
import { naturalCompare } from '../util/natural-sort.js';

/** How a run takes over agents another file created (PlanOptions.takeOver). */
export type TakeOver = 'changed' | 'all';

/** The file recorded as `c`'s creator, when it is not this one: a leftover of an interrupted recreate is never an agent. */
function otherFileOf(c: ObservedContainer, desired: Pick<DesiredState, 'realFile'>): string | undefined {
  const file = c.labels[LABEL.file];
  return c.temporary || file === undefined || file === desired.realFile ? undefined : file;
}

/**
 * The other file, still there, that created `c`, if any: a file that no longer exists manages nothing
 * (its agents are adopted, not guarded).
 */
export function foreignFileOf(
  c: ObservedContainer,
  desired: Pick<DesiredState, 'realFile'>,
  observed: Pick<ObservedState, 'otherFiles'>,
): string | undefined {
  const file = otherFileOf(c, desired);
  return file !== undefined && observed.otherFiles?.[file] === true ? file : undefined;
}

export function attributeOwners(
  actions: Action[],
  desired: Pick<DesiredState, 'realFile'>,
  observed: Pick<ObservedState, 'containers' | 'otherFiles'>,
): { actions: Action[]; adopted: AdoptedAgent[] } {
  const byId = new Map(observed.containers.map((c) => [c.id, c]));
  const marked = actions.map((a): Action => {
    const c = 'containerId' in a ? byId.get(a.containerId) : undefined;
    const file = c && foreignFileOf(c, desired, observed);
    return file !== undefined ? { ...a, createdBy: file } : a;
  });
  const adopted = new Map<string, string>();
  for (const c of observed.containers) {
    const file = otherFileOf(c, desired);
    if (file !== undefined && observed.otherFiles?.[file] === false && !adopted.has(c.agentId))
      adopted.set(c.agentId, file);
  }
  return {
    actions: marked,
    adopted: [...adopted]
      .map(([agentId, file]) => ({ agentId, file }))
      .sort((a, b) => naturalCompare(a.agentId, b.agentId)),
  };
}

/** The actions another file's agents would undergo, by kind of guard: removals, and everything else. */
export function foreignActions(actions: readonly Action[]): { prunes: Action[]; changes: Action[] } {
  const foreign = actions.filter((a) => a.createdBy !== undefined);
  return {
    prunes: foreign.filter((a) => a.kind === 'remove'),
    changes: foreign.filter((a) => a.kind !== 'remove'),
  };
}

/** `3 agents created by /x/agents.yaml (a, b, c)`, one phrase per other file. */
export function describeForeign(actions: readonly Action[]): string {
  const byFile = new Map<string, string[]>();
  for (const a of actions) {
    if (a.createdBy === undefined) continue;
    byFile.set(a.createdBy, [...new Set([...(byFile.get(a.createdBy) ?? []), a.agentId])]);
  }
  return [...byFile]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([file, ids]) => {
      return `${ids.length} agent(s) created by ${file} (${someOf(ids)})`;
    })
    .join('; ');
}
