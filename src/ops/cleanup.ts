/**
 * cleanup: remove our stopped containers, then the working directories no container uses any more,
 * both only when older than a cutoff. Never follows a symlink: a symlinked runtime or working directory
 * is reported and left alone. `dryRun` reports the same without changing anything.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ContainerSummary } from '../docker/port.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { assertNoSymlinks, WORKDIRS } from '../reconcile/workdir.js';
import { mapLimit } from '../util/concurrency.js';
import { diskUsage } from '../util/disk-usage.js';
import { type OpContext, portOf } from './context.js';
import { lockProjects } from './project-locks.js';

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
  /** Things left alone, with why (symlinks, odd entries). */
  skipped: string[];
}

const STOPPED = new Set(['exited', 'created', 'dead']);
const AGENT_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export async function cleanup(opts: CleanupOptions): Promise<CleanupResult> {
  const port = portOf(opts);
  const now = opts.now ?? Date.now();
  const dryRun = opts.dryRun ?? false;
  const cutoff = now - opts.olderThanMs;

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
  const release = dryRun ? async () => undefined : await lockProjects(projects, opts.lockWaitMs);
  try {
    const containers = await mapLimit(old, 4, async ({ c, since }): Promise<CleanedContainer> => {
      const row = {
        agent: c.labels[LABEL.agent] ?? '',
        project: c.labels[LABEL.project] ?? '',
        container: c.name,
        state: c.state,
        since,
      };
      if (dryRun) return { ...row, ok: true };
      try {
        // Stopped, but it could have been started since we looked: removal is forced either way.
        await port.removeContainer(c.id);
        return { ...row, ok: true };
      } catch (err) {
        return { ...row, ok: false, error: toAgentctlError(err).message };
      }
    });
    // A dry run counts the containers it would remove as gone, so it reports what a real run frees.
    const removed = new Set(old.filter((_, i) => containers[i]?.ok).map(({ c }) => c.id));
    // Any container on the engine (ours or not) that still mounts a directory keeps it.
    const mounted = (await port.listContainers({}))
      .filter((c) => !removed.has(c.id) && c.workDir)
      .map((c) => c.workDir as string);
    const { directories, skipped } = await unusedWorkDirs(opts, cutoff, mounted, dryRun);
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
  opts: CleanupOptions,
  cutoff: number,
  mounted: string[],
  dryRun: boolean,
): Promise<{ directories: CleanedDirectory[]; skipped: string[] }> {
  const skipped: string[] = [];
  const root = path.join(opts.runtimeDir, WORKDIRS);
  await assertNoSymlinks(opts.runtimeDir, root);
  const names = await fs.readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new AgentctlError('unsafe', `cannot list ${root}: ${err.message}`);
  });
  const keep = new Set(opts.keep ?? []);
  const inUse = new Set(mounted);
  // Mount sources are as the engine was given them; compare real paths too.
  for (const m of mounted) inUse.add(await fs.realpath(m).catch(() => m));
  const directories: CleanedDirectory[] = [];
  for (const name of names.sort()) {
    const dir = path.join(root, name);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) {
      skipped.push(`${dir}: a symlink; not followed`);
      continue;
    }
    if (!st.isDirectory() || !AGENT_ID.test(name)) {
      skipped.push(`${dir}: not an agent working directory`);
      continue;
    }
    if (keep.has(name) || inUse.has(dir) || inUse.has(await fs.realpath(dir).catch(() => dir))) continue;
    if (st.mtimeMs > cutoff) continue;
    const usage = await diskUsage(dir);
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
      // fs.rm removes links inside the tree as links; it never follows them.
      await fs.rm(dir, { recursive: true, force: true });
      directories.push({ ...row, ok: true });
    } catch (err) {
      directories.push({ ...row, ok: false, error: (err as Error).message });
    }
  }
  return { directories, skipped };
}

/** The engine reports a never-started container's FinishedAt as year 1. */
function stoppedSince(finishedAt: string | undefined, createdAt: string): string {
  const t = finishedAt ? Date.parse(finishedAt) : NaN;
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : createdAt;
}
