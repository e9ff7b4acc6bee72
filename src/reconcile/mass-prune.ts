/**
 * The guard against a truncated file tearing most of a fleet down. A file cut at a line boundary still
 * parses, and then declares a few of the agents: pruning would remove the rest. A run that would remove
 * more than half of a project's agents (and more than one) is refused unless the caller says so.
 * Pure, so that one-shot apply (against what the engine has) and the watcher (against its last good
 * file) decide alike.
 */
import { someOf } from '../render/some-of.js';

/** The agents a change would remove, or undefined when it is no mass removal. */
export function massRemoval(
  before: Iterable<string>,
  after: Iterable<string>,
): { removed: string[]; of: number } | undefined {
  const kept = new Set(after);
  const all = [...new Set(before)];
  const removed = all.filter((id) => !kept.has(id)).sort();
  if (removed.length <= 1 || removed.length * 2 <= all.length) return undefined;
  return { removed, of: all.length };
}

export function describeMassRemoval(m: { removed: string[]; of: number }, whose = "the project's"): string {
  return `${m.removed.length} of ${whose} ${m.of} agents (${someOf(m.removed)})`;
}
