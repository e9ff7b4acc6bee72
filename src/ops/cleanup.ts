/**
 * cleanup: remove our stopped containers, then the working directories no container uses any more,
 * both only when older than a cutoff. A directory whose container existed when the run began is kept
 * (a later run can take it), and one any container mounts (it, inside it, or a directory holding it)
 * is never deleted. Never follows a symlink: a symlinked runtime or working directory is reported and
 * left alone. `dryRun` reports the same without changing anything.
 */
import path from 'node:path';
import { ID_PATTERN } from '../config/rules.js';
import type { ContainerSummary, DockerPort } from '../docker/port.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { assertNoSymlinks, WORKDIRS } from '../reconcile/workdir.js';
import { mapLimit } from '../util/concurrency.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { type OpContext, portOf } from './context.js';
import { lockProjects } from './project-locks.js';
import { inUseReason, type MountSnapshot, mountSnapshot, usersOf, workDirUsers } from './workdir-in-use.js';

export interface CleanupOptions extends OpContext {
  /** Only this project's containers (otherwise every project's). */
  project?: string;
  /** Absolute; its agent-working-directory/ is where unused working directories are looked for. */
  runtimeDir: string;
  /** Only what stopped (containers) or last changed (directories) at least this long ago. */
  olderThanMs: number;
  dryRun?: boolean;
  /** Agent ids whose directories stay even without a container (those declared in the file). */
  keep?: string[];
  /**
   * Further projects whose locks are held for the run, e.g. the file's whose agents live in runtimeDir:
   * none of their applies then creates an agent while its directory is being deleted.
   */
  alsoLock?: string[];
  lockWaitMs?: number;
  now?: number;
}

export interface CleanedContainer {
  agent: string;
  project: string;
  container: string;
  state: string;
  /** When it stopped (or was created, if it never ran). */
  since: string;
  ok: boolean;
  error?: string;
}

export interface CleanedDirectory {
  agent: string;
  path: string;
  bytes: number;
  modifiedAt: string;
  ok: boolean;
  error?: string;
}

export interface CleanupResult {
  dryRun: boolean;
  containers: CleanedContainer[];
  directories: CleanedDirectory[];
  freedBytes: number;
  /** Things left alone, with why (symlinks, odd entries, containers started or directories mounted meanwhile). */
  skipped: string[];
}

const STOPPED = new Set(['exited', 'created', 'dead']);

export async function cleanup(opts: CleanupOptions): Promise<CleanupResult> {
  const port = portOf(opts);
  const now = opts.now ?? Date.now();
  const dryRun = opts.dryRun ?? false;
  const cutoff = now - opts.olderThanMs;

  // Every container that exists when the run begins keeps the directories it mounts for this run.
  const host = localHostFs;
  const atStart = await mountSnapshot(port, host);
  const stopped = (await port.listManaged(opts.project)).filter((c) => STOPPED.has(c.state));
  const old = (
    await mapLimit(stopped, 16, async (c) => {
      const d = await port.inspectContainer(c.id);
      if (!d || !STOPPED.has(d.state)) return undefined; // gone or started meanwhile
      const since = stoppedSince(d.finishedAt, c.createdAt);
      return Date.parse(since) <= cutoff ? { c, since } : undefined;
    })
  ).filter((x): x is { c: ContainerSummary; since: string } => x !== undefined);

  const projects = old.map(({ c }) => c.labels[LABEL.project] ?? '');
  if (opts.project !== undefined) projects.push(opts.project);
  projects.push(...(opts.alsoLock ?? []));
  const release = dryRun ? async () => undefined : await lockProjects(projects, opts.lockWaitMs);
  try {
    // What is in use is decided before anything is removed: the containers this run removes still
    // count, so an agent's data never goes in the same run as its container. (A dry run therefore
    // reports exactly what a real run would do.) Those created while we waited for the locks count too.
    const inUse: MountSnapshot = {
      mounts: [...atStart.mounts, ...(await mountSnapshot(port, host)).mounts],
      host,
    };
    const skipped: string[] = [];
    const containers = (
      await mapLimit(old, 4, async ({ c, since }): Promise<CleanedContainer | undefined> => {
        const row = {
          agent: c.labels[LABEL.agent] ?? '',
          project: c.labels[LABEL.project] ?? '',
          container: c.name,
          state: c.state,
          since,
        };
        if (dryRun) return { ...row, ok: true };
        try {
          // Under the lock, look again: one started (or removed) since it was listed is left alone.
          const d = await port.inspectContainer(c.id);
          if (!d) return undefined;
          if (!STOPPED.has(d.state)) {
            skipped.push(`container ${c.name}: ${d.state} now, no longer stopped`);
            return undefined;
          }
          // Not forced: should it start in the meantime, the engine refuses instead of killing it.
          await port.removeContainer(c.id, { force: false });
          return { ...row, ok: true };
        } catch (err) {
          const d = await port.inspectContainer(c.id).catch(() => undefined);
          if (d && !STOPPED.has(d.state)) {
            skipped.push(`container ${c.name}: ${d.state} now, no longer stopped`);
            return undefined;
          }
          return { ...row, ok: false, error: toAgentctlError(err).message };
        }
      })
    ).filter((x): x is CleanedContainer => x !== undefined);
    skipped.sort(); // containers, in name order rather than as their removals ended
    const directories = await unusedWorkDirs(port, host, opts, cutoff, inUse, dryRun, skipped);
    return {
      dryRun,
      containers,
      directories,
      freedBytes: directories.filter((d) => d.ok).reduce((sum, d) => sum + d.bytes, 0),
      skipped,
    };
  } finally {
    await release();
  }
}

async function unusedWorkDirs(
  port: DockerPort,
  host: HostFs,
  opts: CleanupOptions,
  cutoff: number,
  inUse: MountSnapshot,
  dryRun: boolean,
  skipped: string[],
): Promise<CleanedDirectory[]> {
  const root = path.join(opts.runtimeDir, WORKDIRS);
  await assertNoSymlinks(opts.runtimeDir, root, host);
  const names =
    (await host.readdir(root).catch((err: Error) => {
      throw new AgentctlError('unsafe', `cannot list ${root}: ${err.message}`);
    })) ?? [];
  const keep = new Set(opts.keep ?? []);
  const directories: CleanedDirectory[] = [];
  for (const name of names.sort()) {
    const dir = path.join(root, name);
    const st = await host.lstat(dir).catch(() => undefined);
    if (!st) continue;
    if (st.type === 'symlink') {
      skipped.push(`${dir}: a symlink; not followed`);
      continue;
    }
    if (st.type !== 'directory' || !ID_PATTERN.test(name)) {
      skipped.push(`${dir}: not an agent working directory`);
      continue;
    }
    if (keep.has(name) || (await usersOf(inUse, dir)).length > 0) continue;
    if (st.mtimeMs > cutoff) continue;
    const usage = await host.diskUsage(dir);
    const row = {
      agent: name,
      path: dir,
      bytes: usage?.bytes ?? 0,
      modifiedAt: new Date(st.mtimeMs).toISOString(),
    };
    if (dryRun) {
      directories.push({ ...row, ok: true });
      continue;
    }
    try {
      // Its project's lock may not be ours (nothing says whose it is): look again right before.
      const users = await workDirUsers(port, dir, host);
      if (users.length > 0) {
        skipped.push(`${dir}: ${inUseReason(users)}`);
        continue;
      }
      const again = await host.lstat(dir).catch(() => undefined);
      if (again?.type !== 'directory' || again.mtimeMs > cutoff) continue; // gone, replaced or changed since
      await host.removeTree(dir);
      directories.push({ ...row, ok: true });
    } catch (err) {
      directories.push({ ...row, ok: false, error: toAgentctlError(err).message });
    }
  }
  return directories;
}

/** The engine reports a never-started container's FinishedAt as year 1. */
function stoppedSince(finishedAt: string | undefined, createdAt: string): string {
  const t = finishedAt ? Date.parse(finishedAt) : NaN;
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : createdAt;
}
