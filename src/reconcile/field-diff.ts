/**
 * Field-level before/after between the spec a container was created from and the desired one.
 * Paths use the config file's vocabulary (`capabilities.add`, `memory`), not AgentSpec's.
 */
import deepDiff from 'deep-diff';
import type { FieldChange } from '../types.js';

/** AgentSpec field -> the name a user wrote in agents.yaml. */
const CONFIG_NAMES: Record<string, string> = {
  memoryBytes: 'memory',
  nanoCpus: 'cpus',
  capAdd: 'capabilities.add',
  capDrop: 'capabilities.drop',
  name: 'name (namePrefix)',
  workDir: 'workDir (runtimeDir)',
};

export function configPath(keys: readonly (string | number)[]): string {
  const [head, ...rest] = keys;
  const first = CONFIG_NAMES[String(head)] ?? String(head);
  return [first, ...rest.map(String)].join('.');
}

/**
 * Changes between two plain objects. Arrays are compared whole (a changed `command` is shown as the old
 * and new list, not as element edits), and the result is sorted by path.
 */
export function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>): FieldChange[] {
  const byPath = new Map<string, FieldChange>();
  for (const d of deepDiff.diff(before, after) ?? []) {
    const keys = d.path ?? [];
    // Cut the path at the first array index: report the whole array.
    const arrayAt = keys.findIndex(
      (k, i) => i > 0 && Array.isArray(get(before, keys.slice(0, i)) ?? get(after, keys.slice(0, i))),
    );
    const path = d.kind === 'A' ? keys : arrayAt > 0 ? keys.slice(0, arrayAt) : keys;
    const key = configPath(path);
    if (byPath.has(key)) continue;
    byPath.set(key, { path: key, before: get(before, path), after: get(after, path) });
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

function get(obj: unknown, keys: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
