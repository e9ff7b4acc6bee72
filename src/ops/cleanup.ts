/**
 * cleanup: remove our stopped containers, then the working directories no container uses any more,
 * both only when older than a cutoff. A directory whose container existed when the run began is kept
 * (a later run can take it), and one any container mounts (it, inside it, or a directory holding it)
 * is never deleted. Never follows a symlink: a symlinked runtime or working directory is reported and
 * left alone. `dryRun` reports the same without changing anything.
 *
 * With a file that declares engines (`desired`), every engine is cleaned, each in its own runtimeDir on
 * its own host. A directory is in use when a container of ANY engine of that host mounts it
 * (fleet/same-host.ts), so the mounts are read per machine: every engine of it once when the run
 * begins, once under the locks, and once more right before that machine's directories are deleted, never
 * once per directory. An engine that cannot be reached is named and nothing is done there; no directory
 * of its machine is deleted either (one of its containers might mount it). Engines of one machine with
 * one runtimeDir hold the same directories: they are looked at once. A runtimeDir that is a symlink is
 * refused for its engine; the other engines are still cleaned.
 */
import path from 'node:path';
import { ID_PATTERN } from '../config/rules.js';
import { type OpenEngine, openEngine } from '../docker/engines.js';
import type { ContainerSummary } from '../docker/port.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { engineMachines } from '../fleet/engine-machines.js';
import { THIS_HOST } from '../fleet/same-host.js';
import { LABEL } from '../labels.js';
import { assertNoSymlinks, WORKDIRS } from '../reconcile/workdir.js';
import { type DesiredState, LOCAL_ENGINE } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { naturalCompare } from '../util/natural-sort.js';
import { type OpContext, portOf } from './context.js';
import { lockProjects } from './project-locks.js';
import {
  inUseReason,
  machineHost,
  type MountSnapshot,
  mountSnapshot,
  unansweredReason,
  usersOf,
} from './workdir-in-use.js';

export interface CleanupOptions extends OpContext {
  /** Only this project's containers (otherwise every project's). */
  project?: string;
  /** Absolute; its agent-working-directory/ is where unused working directories are looked for (`local`'s). */
  runtimeDir: string;
  /**
   * The file whose engines are cleaned too (each in its own runtimeDir); without one, or with `local`
   * only, just the local engine and `runtimeDir`.
   */
  desired?: Pick<DesiredState, 'engines' | 'agents' | 'runtimeDir'>;
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
  /** The engine it was on (`local` without a file of engines). */
  engine: string;
  state: string;
  /** When it stopped (or was created, if it never ran). */
  since: string;
  ok: boolean;
  error?: string;
}

export interface CleanedDirectory {
  agent: string;
  path: string;
  /** The engine whose runtimeDir (on its host) it is in. */
  engine: string;
  bytes: number;
  modifiedAt: string;
  ok: boolean;
  error?: string;
}

/** What became of one engine. */
export interface CleanedEngine {
  engine: string;
  /** Its runtimeDir, on its host. */
  runtimeDir: string;
  /** It answered (false: nothing was done on it). */
  reachable: boolean;
  /**
   * Why the engine, or its working directories, were not looked at: it could not be reached, its
   * runtimeDir is a symlink, another engine of its host could not be asked.
   */
  error?: string;
  freedBytes: number;
}

export interface CleanupResult {
  dryRun: boolean;
  containers: CleanedContainer[];
  directories: CleanedDirectory[];
  freedBytes: number;
  /** Things left alone, with why (symlinks, odd entries, containers started or directories mounted meanwhile). */
  skipped: string[];
  /** Every engine looked at, by name. */
  engines: CleanedEngine[];
}

const STOPPED = new Set(['exited', 'created', 'dead']);

/** An engine being cleaned: where it is, what it held when the run began. */
interface Site {
  e: OpenEngine;
  machine: string;
  /** Its mounts when the run began and under the locks. */
  seen: MountSnapshot['mounts'];
  old: { c: ContainerSummary; since: string }[];
}

export async function cleanup(opts: CleanupOptions): Promise<CleanupResult> {
  const now = opts.now ?? Date.now();
  const dryRun = opts.dryRun ?? false;
  const cutoff = now - opts.olderThanMs;
  const fleet = hasOtherEngines(opts.desired);
  const { open, failed } = fleet
    ? await openFileEngines({ ...opts.desired, runtimeDir: opts.runtimeDir }, portOf(opts))
    : {
        open: [openEngine({ name: LOCAL_ENGINE, runtimeDir: opts.runtimeDir }, { localPort: portOf(opts) })],
        failed: [],
      };
  // Container names in messages say their engine when there are several.
  const named = (e: OpenEngine, name: string) => (fleet ? `${name} on engine ${e.name}` : name);
  const machineOfEngine = fleet
    ? await engineMachines([...open, ...failed.map((f) => ({ name: f.spec.name, spec: f.spec }))])
    : new Map([[LOCAL_ENGINE, THIS_HOST]]);
  const engines = new Map<string, CleanedEngine>();
  for (const { spec } of [...open, ...failed])
    engines.set(spec.name, {
      engine: spec.name,
      runtimeDir: spec.runtimeDir,
      reachable: true,
      freedBytes: 0,
    });
  const lost = (name: string, err: unknown) => {
    const row = engines.get(name)!;
    row.reachable = false;
    row.error = toAgentctlError(err).message;
  };
  for (const f of failed) lost(f.spec.name, new AgentctlError('engine-unreachable', f.message));

  // Every container that exists when the run begins keeps the directories it mounts for this run.
  const snapshot = async (e: OpenEngine) =>
    (await mountSnapshot(e.port, e.host)).mounts.map((m) => ({ ...m, container: named(e, m.container) }));
  // One engine that does not answer must not stop the others (alone, it fails the run as before).
  const sites = (
    await Promise.all(
      open.map((e) =>
        fleet
          ? survey(e).catch((err: unknown) => {
              lost(e.name, err);
              return undefined;
            })
          : survey(e),
      ),
    )
  ).filter((s): s is Site => s !== undefined);
  async function survey(e: OpenEngine): Promise<Site> {
    const seen = await snapshot(e);
    const stopped = (await e.port.listManaged(opts.project)).filter((c) => STOPPED.has(c.state));
    const old = (
      await mapLimit(stopped, 16, async (c) => {
        const d = await e.port.inspectContainer(c.id);
        if (!d || !STOPPED.has(d.state)) return undefined; // gone or started meanwhile
        const since = stoppedSince(d.finishedAt, c.createdAt);
        return Date.parse(since) <= cutoff ? { c, since } : undefined;
      })
    ).filter((x): x is { c: ContainerSummary; since: string } => x !== undefined);
    return { e, machine: machineOfEngine.get(e.name) ?? e.name, seen, old };
  }

  const projects = sites.flatMap((s) => s.old.map(({ c }) => c.labels[LABEL.project] ?? ''));
  if (opts.project !== undefined) projects.push(opts.project);
  projects.push(...(opts.alsoLock ?? []));
  const release = dryRun ? async () => undefined : await lockProjects(projects, opts.lockWaitMs);
  try {
    // What is in use is decided before anything is removed: the containers this run removes still
    // count, so an agent's data never goes in the same run as its container. (A dry run therefore
    // reports exactly what a real run would do.) Those created while we waited for the locks count too.
    const live: Site[] = [];
    await Promise.all(
      sites.map(async (s) => {
        try {
          s.seen.push(...(await snapshot(s.e)));
          live.push(s);
        } catch (err) {
          if (!fleet) throw err;
          lost(s.e.name, err);
        }
      }),
    );
    live.sort((a, b) => naturalCompare(a.e.name, b.e.name));
    const skipped: string[] = [];
    const containers = (await Promise.all(live.map((s) => removeOld(s, dryRun, skipped, named)))).flat();
    skipped.sort(); // containers, in name order rather than as their removals ended
    const directories: CleanedDirectory[] = [];
    for (const machine of [...new Set(live.map((s) => s.machine))]) {
      const here = live.filter((s) => s.machine === machine);
      // An engine of this machine that could not be asked might mount any directory on its disk.
      const blind = [...engines.values()]
        .filter((r) => !r.reachable && machineOfEngine.get(r.engine) === machine)
        .map((r) => r.engine);
      if (blind.length > 0) {
        for (const s of here)
          engines.get(s.e.name)!.error =
            `${unansweredReason(blind, 'a working directory')}; none in ${s.e.spec.runtimeDir} was looked at`;
        continue;
      }
      const rows = await machineDirs(here, {
        opts,
        cutoff,
        dryRun,
        skipped,
        fleet,
        refuse: (s, err) => {
          engines.get(s.e.name)!.error = toAgentctlError(err).message;
        },
        fresh: async () => (await Promise.all(here.map((s) => snapshot(s.e)))).flat(),
      });
      directories.push(...rows);
    }
    for (const d of directories) if (d.ok) engines.get(d.engine)!.freedBytes += d.bytes;
    return {
      dryRun,
      containers,
      directories,
      freedBytes: directories.filter((d) => d.ok).reduce((sum, d) => sum + d.bytes, 0),
      skipped,
      engines: [...engines.values()].sort((a, b) => naturalCompare(a.engine, b.engine)),
    };
  } finally {
    await release();
  }
}

/** The engine's stopped containers older than the cutoff, removed (not in a dry run). */
async function removeOld(
  { e, old }: Site,
  dryRun: boolean,
  skipped: string[],
  named: (e: OpenEngine, name: string) => string,
): Promise<CleanedContainer[]> {
  const { port } = e;
  const rows = await mapLimit(old, 4, async ({ c, since }): Promise<CleanedContainer | undefined> => {
    const row = {
      agent: c.labels[LABEL.agent] ?? '',
      project: c.labels[LABEL.project] ?? '',
      container: c.name,
      engine: e.name,
      state: c.state,
      since,
    };
    if (dryRun) return { ...row, ok: true };
    const started = (state: string) =>
      skipped.push(`container ${named(e, c.name)}: ${state} now, no longer stopped`);
    try {
      // Under the lock, look again: one started (or removed) since it was listed is left alone.
      const d = await port.inspectContainer(c.id);
      if (!d) return undefined;
      if (!STOPPED.has(d.state)) {
        started(d.state);
        return undefined;
      }
      // Not forced: should it start in the meantime, the engine refuses instead of killing it.
      await port.removeContainer(c.id, { force: false });
      return { ...row, ok: true };
    } catch (err) {
      const d = await port.inspectContainer(c.id).catch(() => undefined);
      if (d && !STOPPED.has(d.state)) {
        started(d.state);
        return undefined;
      }
      return { ...row, ok: false, error: toAgentctlError(err).message };
    }
  });
  return rows.filter((x): x is CleanedContainer => x !== undefined);
}

interface DirsContext {
  opts: CleanupOptions;
  cutoff: number;
  dryRun: boolean;
  skipped: string[];
  fleet: boolean;
  /** A runtimeDir that cannot be looked at safely: its engine is reported, the others go on. */
  refuse: (s: Site, err: unknown) => void;
  /** Every engine of the machine's mounts now (one list call each). */
  fresh: () => Promise<MountSnapshot['mounts']>;
}

/** The unused old working directories of one machine's engines, deleted (not in a dry run). */
async function machineDirs(here: Site[], ctx: DirsContext): Promise<CleanedDirectory[]> {
  const { opts, cutoff, dryRun, skipped } = ctx;
  const host = machineHost(here.map((s) => s.e.host));
  // Every engine of the machine can mount any of its directories.
  const inUse: MountSnapshot = { mounts: here.flatMap((s) => s.seen), host };
  const keep = new Set(opts.keep ?? []);
  const candidates: { s: Site; row: Omit<CleanedDirectory, 'ok'>; mtimeMs: number }[] = [];
  const looked = new Set<string>();
  for (const s of here) {
    const rt = s.e.spec.runtimeDir;
    if (looked.has(rt)) continue; // the same directories, seen through another engine of this machine
    looked.add(rt);
    const root = path.join(rt, WORKDIRS);
    let names: string[];
    try {
      await assertNoSymlinks(rt, root, s.e.host);
      names =
        (await s.e.host.readdir(root).catch((err: Error) => {
          throw new AgentctlError('unsafe', `cannot list ${root}: ${err.message}`);
        })) ?? [];
    } catch (err) {
      if (!ctx.fleet) throw err;
      const e = toAgentctlError(err);
      ctx.refuse(s, new AgentctlError(e.kind, `${e.message}; its working directories were not looked at`));
      continue;
    }
    for (const name of names.sort()) {
      const dir = path.join(root, name);
      const st = await s.e.host.lstat(dir).catch(() => undefined);
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
      const usage = await s.e.host.diskUsage(dir);
      candidates.push({
        s,
        mtimeMs: st.mtimeMs,
        row: {
          agent: name,
          path: dir,
          engine: s.e.name,
          bytes: usage?.bytes ?? 0,
          modifiedAt: new Date(st.mtimeMs).toISOString(),
        },
      });
    }
  }
  if (dryRun || candidates.length === 0) return candidates.map((c) => ({ ...c.row, ok: true }));
  // Its project's lock may not be ours (nothing says whose it is): look again right before, once for
  // the whole machine. One engine that no longer answers leaves every directory here alone.
  let now: MountSnapshot;
  try {
    now = { mounts: await ctx.fresh(), host };
  } catch (err) {
    const why = `not deleted: whether a container mounts it could not be asked: ${toAgentctlError(err).message}`;
    return candidates.map((c) => ({ ...c.row, ok: false, error: why }));
  }
  const out: CleanedDirectory[] = [];
  for (const { s, row } of candidates) {
    try {
      const users = await usersOf(now, row.path);
      if (users.length > 0) {
        skipped.push(`${row.path}: ${inUseReason(users)}`);
        continue;
      }
      const again = await s.e.host.lstat(row.path).catch(() => undefined);
      if (again?.type !== 'directory' || again.mtimeMs > cutoff) continue; // gone, replaced or changed since
      await s.e.host.removeTree(row.path);
      out.push({ ...row, ok: true });
    } catch (err) {
      out.push({ ...row, ok: false, error: toAgentctlError(err).message });
    }
  }
  return out;
}

/** The engine reports a never-started container's FinishedAt as year 1. */
function stoppedSince(finishedAt: string | undefined, createdAt: string): string {
  const t = finishedAt ? Date.parse(finishedAt) : NaN;
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : createdAt;
}
