/**
 * `worker: { replicas: 3 }` declares worker-1, worker-2 and worker-3. Every expanded id must be a
 * valid id and must not clash with another agent; both are reported at the key that expands.
 */
import type { Diagnostics } from './diagnostics.js';
import { ID_PATTERN, invalidIdMessage } from './rules.js';

export interface Declaration {
  key: string;
  replicas: number;
}

/** The agent ids declared, each with the key that declares it. */
export function expandReplicas(declarations: readonly Declaration[], d: Diagnostics): Map<string, string> {
  const owners = new Map<string, string>();
  // Plain keys first, so that a clash is always blamed on the expansion rather than on the plain key.
  for (const { key, replicas } of declarations) if (replicas === 1) owners.set(key, key);
  for (const { key, replicas } of declarations) {
    if (replicas === 1) continue;
    const expands = `"${key}" (replicas: ${replicas}) expands to`;
    for (let n = 1; n <= replicas; n++) {
      const id = `${key}-${n}`;
      if (!ID_PATTERN.test(id)) {
        d.problem(['agents', key], `${expands} ${invalidIdMessage('agent id', id)}`, 'key');
        break;
      }
      const owner = owners.get(id);
      if (owner !== undefined) {
        const line = d.locator.keyPos(['agents', owner]).line;
        const by =
          owner === id ? `is also declared at line ${line}` : `"${owner}" also expands to (line ${line})`;
        d.problem(['agents', key], `${expands} "${id}", which ${by}`, 'key');
        continue;
      }
      owners.set(id, key);
    }
  }
  return owners;
}
