/**
 * A location in the config document: map keys as strings, list indexes as numbers. Used to find the
 * YAML node of a problem and to print where it is (`agents.worker.memory`, `command[0]`).
 */
export type FieldPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `where: message`, or the bare message at the top level. */
export function prefixed(path: FieldPath, message: string): string {
  return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
}

/** True when `prefix` is `path` or one of its ancestors. */
export function isPrefix(prefix: FieldPath, path: FieldPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => String(segment) === String(path[i]));
}

/** Converts a JSON Pointer (as ajv reports it) to a path, numbering the segments that index lists. */
export function pointerToPath(pointer: string, data: unknown): FieldPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let value = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path.push(Array.isArray(value) ? Number(key) : key);
    value = childValue(value, key);
  }
  return path;
}

export function valueAt(data: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>((value, segment) => childValue(value, String(segment)), data);
}

function childValue(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
