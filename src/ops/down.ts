/** down: remove every container of the project. Working directories stay unless `removeData`. */
import { promises as fs } from 'node:fs';
import { LABEL } from '../labels.js';
import { acquireLock } from '../lock.js';
import { assertNoSymlinks, workDirOf } from '../reconcile/workdir.js';
import type { DesiredState } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { type OpContext, portOf } from './context.js';

export interface DownOptions extends OpContext {
  removeData?: boolean;
  stopTimeoutSeconds?: number;
  lockWaitMs?: number;
}

export interface DownResult {
  removed: { agent: string; container: string }[];
  removedData: string[];
}

const AGENT_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export async function down(desired: DesiredState, opts: DownOptions = {}): Promise<DownResult> {
  const port = portOf(opts);
  const release = await acquireLock(desired.project, { waitMs: opts.lockWaitMs });
  try {
    const containers = await port.listContainers({ [LABEL.project]: desired.project });
    await mapLimit(containers, 8, async (c) => {
      await port.stopContainer(c.id, opts.stopTimeoutSeconds ?? 10);
      await port.removeContainer(c.id);
    });
    const removed = containers
      .map((c) => ({ agent: c.labels[LABEL.agent] ?? '', container: c.name }))
      .sort((a, b) => a.container.localeCompare(b.container));
    const removedData: string[] = [];
    if (opts.removeData) {
      const ids = new Set([...desired.agents.map((a) => a.id), ...removed.map((r) => r.agent)]);
      for (const id of [...ids].sort()) {
        // An agent label is untrusted input: only ids that cannot escape runtimeDir.
        if (!AGENT_ID.test(id)) continue;
        const dir = workDirOf(desired.runtimeDir, id);
        await assertNoSymlinks(desired.runtimeDir, dir);
        const exists = await fs.lstat(dir).then(
          () => true,
          () => false,
        );
        if (!exists) continue;
        await fs.rm(dir, { recursive: true, force: true });
        removedData.push(dir);
      }
    }
    return { removed, removedData };
  } finally {
    await release();
  }
}
