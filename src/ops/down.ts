/**
 * down: remove every container of the project. Working directories stay unless `removeData`, and even
 * then one that another container still uses (see workdir-in-use.ts) is kept and reported.
 */
import { ID_PATTERN } from '../config/rules.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { removeEgressNetworks } from '../egress/execute.js';
import { acquireLock } from '../lock.js';
import { hasOtherEngines } from '../fleet/engines-of.js';
import { downFleet } from './down-fleet.js';
import { assertNoSymlinks, workDirOf } from '../reconcile/workdir.js';
import type { DesiredState, UnreachableEngine } from '../types.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { mapLimit } from '../util/concurrency.js';
import { type OpContext, portOf } from './context.js';
import { inUseReason, mountSnapshot, usersOf } from './workdir-in-use.js';
import { naturalCompare } from '../util/natural-sort.js';

export interface DownOptions extends OpContext {
  removeData?: boolean;
  stopTimeoutSeconds?: number;
  lockWaitMs?: number;
  /** Change nothing: report what would be removed and deleted (no lock taken, as apply --dry-run). */
  dryRun?: boolean;
  /** Containers stopped and removed at once (default 4, as apply's). */
  parallel?: number;
}

/** Working directories checked and deleted at once: each is a few file-system calls, no engine work. */
const DATA_PARALLEL = 16;

export interface DownResult {
  /** `engine`: for a file with engines:, the engine it was removed from. */
  removed: { agent: string; container: string; engine?: string }[];
  removedData: string[];
  /** With engines: each deleted directory with the engine whose host it was on. */
  removedDataOn?: { engine: string; path: string }[];
  /** Working directories `removeData` left alone because another container still uses them. */
  keptData: { path: string; reason: string; engine?: string }[];
  /** With engines: those that could not be reached (nothing was done there). */
  unreachable?: UnreachableEngine[];
}

export async function down(desired: DesiredState, opts: DownOptions = {}): Promise<DownResult> {
  if (hasOtherEngines(desired)) return downFleet(desired, opts);
  if (opts.dryRun) return downPlan(desired, opts);
  const port = portOf(opts);
  const host = localHostFs;
  const release = await acquireLock(desired.project, { waitMs: opts.lockWaitMs });
  try {
    const containers = await port.listContainers({ [LABEL.project]: desired.project });
    // Every removal settles (none is left running behind our back) before anything is reported.
    const failures = (
      await mapLimit(containers, opts.parallel ?? 4, async (c) => {
        try {
          await port.stopContainer(c.id, opts.stopTimeoutSeconds ?? 10);
          await port.removeContainer(c.id);
          return undefined;
        } catch (err) {
          return `  ${c.name}: ${toAgentctlError(err).message}`;
        }
      })
    ).filter((f): f is string => f !== undefined);
    if (failures.length > 0) {
      const data = opts.removeData ? '; no working directory was deleted' : '';
      throw new AgentctlError(
        'engine',
        `${failures.length} of ${containers.length} container(s) of project "${desired.project}" could not be removed${data}`,
        { details: failures.sort() },
      );
    }
    // The egress gateway was one of the containers; its networks go with it.
    await removeEgressNetworks(port, desired.project);
    const removed = removedRows(containers);
    const removedData: string[] = [];
    const keptData: DownResult['keptData'] = [];
    if (opts.removeData) {
      // Taken after our containers are gone: what still mounts a directory belongs to someone else.
      const snapshot = await mountSnapshot(port, host);
      // One after another, 1000 directories took longer than removing their containers.
      const outcomes = await mapLimit(await dataDirs(desired, removed, host), DATA_PARALLEL, async (dir) => {
        const users = await usersOf(snapshot, dir);
        if (users.length > 0) return { path: dir, reason: inUseReason(users) };
        await host.removeTree(dir);
        return dir;
      });
      for (const o of outcomes) {
        if (typeof o === 'string') removedData.push(o);
        else keptData.push(o);
      }
    }
    return { removed, removedData, keptData };
  } finally {
    await release();
  }
}

/** down --dry-run: the same lists, with what would happen, and nothing touched. */
async function downPlan(desired: DesiredState, opts: DownOptions): Promise<DownResult> {
  const port = portOf(opts);
  const containers = await port.listContainers({ [LABEL.project]: desired.project });
  const removed = removedRows(containers);
  const removedData: string[] = [];
  const keptData: DownResult['keptData'] = [];
  if (opts.removeData) {
    // Our own containers would be gone by then: only other containers keep a directory.
    const ours = new Set(containers.map((c) => c.name));
    const snapshot = await mountSnapshot(port, localHostFs);
    const others = { ...snapshot, mounts: snapshot.mounts.filter((m) => !ours.has(m.container)) };
    for (const dir of await dataDirs(desired, removed, localHostFs)) {
      const users = await usersOf(others, dir);
      if (users.length > 0) keptData.push({ path: dir, reason: inUseReason(users) });
      else removedData.push(dir);
    }
  }
  return { removed, removedData, keptData };
}

function removedRows(containers: { name: string; labels: Record<string, string> }[]): DownResult['removed'] {
  return containers
    .map((c) => ({ agent: c.labels[LABEL.agent] ?? '', container: c.name }))
    .sort((a, b) => naturalCompare(a.container, b.container));
}

/** The existing working directories of the file's agents and of the removed containers, sorted. */
async function dataDirs(
  desired: DesiredState,
  removed: DownResult['removed'],
  host: HostFs,
): Promise<string[]> {
  const ids = new Set([...desired.agents.map((a) => a.id), ...removed.map((r) => r.agent)]);
  // An agent label is untrusted input: only ids that cannot escape runtimeDir.
  const candidates = [...ids].sort().filter((id) => ID_PATTERN.test(id));
  const found = await mapLimit(candidates, DATA_PARALLEL, async (id) => {
    const dir = workDirOf(desired.runtimeDir, id);
    await assertNoSymlinks(desired.runtimeDir, dir, host);
    return (await host.lstat(dir)) ? dir : undefined;
  });
  return found.filter((d): d is string => d !== undefined);
}
