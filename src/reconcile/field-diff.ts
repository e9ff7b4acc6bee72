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

/** Healthcheck fields are kept in ms; the file names them without the unit. */
const HEALTHCHECK_NAMES: Record<string, string> = {
  intervalMs: 'interval',
  timeoutMs: 'timeout',
  startPeriodMs: 'startPeriod',
};

export function configPath(keys: readonly (string | number)[]): string {
  const [head, ...rest] = keys;
  const first = CONFIG_NAMES[String(head)] ?? String(head);
  const names = head === 'healthcheck' ? HEALTHCHECK_NAMES : {};
  return [first, ...rest.map((k) => names[String(k)] ?? String(k))].join('.');
}

/** Paths whose values are durations in ms (shown as `5m`, `30s` in plans). */
export const DURATION_PATHS = new Set(Object.values(HEALTHCHECK_NAMES).map((n) => `healthcheck.${n}`));

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
  return withSecretsHidden([...byPath.values()], before, after).sort((a, b) => a.path.localeCompare(b.path));
}

/** How a secret variable appears in a plan: its value is never known there, only its digest. */
export const SECRET = '(secret)';
export const SECRET_CHANGED = '(secret changed)';

/**
 * Changes under `secretEnv` (digest and reference) are shown as changes of `env.KEY`, with `(secret)`
 * and `(secret changed)` for values; a variable turning from plain to secret (or back) is one change.
 */
function withSecretsHidden(
  changes: FieldChange[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): FieldChange[] {
  const b = secretsOf(before);
  const a = secretsOf(after);
  const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
  if (keys.size === 0) return changes;
  const touched = (path: string) =>
    path === 'secretEnv' ||
    path.startsWith('secretEnv.') ||
    (path.startsWith('env.') && keys.has(path.slice(4)));
  const out = changes.filter((c) => !touched(c.path) && c.path !== 'env');
  for (const key of keys) {
    const was = b[key];
    const now = a[key];
    if (was && now && was.digest === now.digest && was.ref === now.ref) continue;
    out.push({
      path: `env.${key}`,
      before: was ? SECRET : plainEnv(before, key),
      after: now ? (was && was.digest !== now.digest ? SECRET_CHANGED : SECRET) : plainEnv(after, key),
    });
  }
  // A whole-`env` change (one side had no env map) is rare; recompute it per key without the secrets.
  if (changes.some((c) => c.path === 'env')) {
    for (const key of new Set([...Object.keys(envOf(before)), ...Object.keys(envOf(after))])) {
      if (keys.has(key) || plainEnv(before, key) === plainEnv(after, key)) continue;
      out.push({ path: `env.${key}`, before: plainEnv(before, key), after: plainEnv(after, key) });
    }
  }
  return out;
}

function secretsOf(spec: Record<string, unknown>): Record<string, { ref?: unknown; digest?: unknown }> {
  const s = spec.secretEnv;
  return s !== null && typeof s === 'object'
    ? (s as Record<string, { ref?: unknown; digest?: unknown }>)
    : {};
}

function envOf(spec: Record<string, unknown>): Record<string, unknown> {
  const e = spec.env;
  return e !== null && typeof e === 'object' ? (e as Record<string, unknown>) : {};
}

function plainEnv(spec: Record<string, unknown>, key: string): unknown {
  return envOf(spec)[key];
}

function get(obj: unknown, keys: readonly (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
