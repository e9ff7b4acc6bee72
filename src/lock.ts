/**
 * A per-project lock so two agentctl runs that change the same project never interleave.
 * An exclusive-create lock file holds the owner's pid and the start time of that process; a lock whose
 * owner is dead (no such pid, or a pid reused by a process that started later) is stale and taken over.
 *
 * Why not proper-lockfile (or a similar kept library): it tells a stale lock by its age, so every holder
 * must touch it on a timer; a live holder whose timer stalls (a SIGSTOPped or swapped-out watcher) loses
 * its lock to a second run, and a dead holder's lock blocks until it ages. Here a live holder keeps its
 * lock for as long as it lives, a dead one's is taken over at once, and the holder's pid and command
 * name who is in the way.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AgentctlError, InterruptedError } from './errors.js';
import { processAlive, processStart } from './util/process-start.js';
import { ensurePrivateDir } from './util/private-dir.js';

export interface LockOptions {
  /** How long to wait for another run to finish (0 = fail at once). */
  waitMs?: number;
  /** Called once when we start waiting, with the holder's description. */
  onWait?: (holder: string) => void;
  /** Directory for lock files (default: lockDir()). */
  dir?: string;
  /**
   * The holder is a watcher (`apply --watch`) of this agents file: recorded in the lock, so commands
   * that change agents behind its back (stop...) can tell that it would undo them, and which file says so.
   */
  watchFile?: string;
  /**
   * Stops the wait (Ctrl-C, SIGTERM): acquireLock then throws an InterruptedError saying nothing was
   * done. Its reason, when it is a signal's name, decides the exit code (130 or 143).
   */
  signal?: AbortSignal;
}

export type Release = () => Promise<void>;

interface Holder {
  pid: number;
  /** The holder's start time (/proc/<pid>/stat), so a reused pid does not look like the holder. */
  start?: string;
  command: string;
  since: string;
  /** Set when the holder is a watcher: the absolute path of the file it keeps the engine converged to. */
  watchFile?: string;
}

/** A live watcher holding a project's lock. */
export interface Watcher {
  pid: number;
  /** The holder's command line, e.g. `apply --watch -f agents.yaml`. */
  command: string;
  since: string;
  /** The agents file it watches (absolute). */
  file: string;
}

/**
 * Where a project's lock lives. It must be the same place for every run of this user whatever its
 * environment: it does not follow TMPDIR (two applies with different TMPDIRs would each take "the" lock
 * and interleave). root's is under /run, which a service's private /tmp (systemd PrivateTmp) does not
 * hide; other users' under /tmp, one directory per uid. AGENTCTL_LOCK_DIR overrides it on purpose, and
 * then every run of the project must be given the same value.
 */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AGENTCTL_LOCK_DIR) return env.AGENTCTL_LOCK_DIR;
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? '/run/agentctl/locks' : `/tmp/agentctl-locks-${uid}`;
}

export async function acquireLock(project: string, opts: LockOptions = {}): Promise<Release> {
  const dir = opts.dir ?? lockDir();
  await ensureLockDir(dir);
  const file = path.join(dir, `${project}.lock`);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const me: Holder = {
    pid: process.pid,
    start: processStart(process.pid),
    command: process.argv.slice(2).join(' '),
    since: new Date().toISOString(),
    ...(opts.watchFile !== undefined ? { watchFile: opts.watchFile } : {}),
  };
  let warned = false;
  for (;;) {
    if (await tryCreate(file, me)) {
      return async () => {
        // Only remove it if it is still ours.
        const holder = await readHolder(file);
        if (typeof holder === 'object' && holder.pid === me.pid && holder.since === me.since) {
          await fs.rm(file, { force: true });
        }
      };
    }
    const holder = await readHolder(file);
    if (holder === 'missing') continue; // released meanwhile
    if (holder === 'corrupt' || !isAlive(holder)) {
      // The previous owner died without releasing it: take it over, one taker at a time.
      await takeOver(file, holder);
      continue;
    }
    const who = `pid ${holder.pid} (agentctl ${holder.command}, since ${holder.since})`;
    if (Date.now() >= deadline) {
      throw new AgentctlError(
        'locked',
        `project "${project}" is locked by ${who}; wait for it to finish, or stop it (lock file: ${file})`,
      );
    }
    if (!warned) {
      opts.onWait?.(who);
      warned = true;
    }
    await sleep(200, opts.signal);
    if (opts.signal?.aborted) {
      const reason: unknown = opts.signal.reason;
      const signal: NodeJS.Signals = reason === 'SIGTERM' || reason === 'SIGINT' ? reason : 'SIGINT';
      throw new InterruptedError(
        signal,
        `${signal} while waiting for the project lock held by ${who}: nothing was done`,
      );
    }
  }
}

/**
 * The live watcher holding `project`'s lock, if one does. Read-only: never takes or changes the lock.
 */
export async function watcherOf(project: string, dir: string = lockDir()): Promise<Watcher | undefined> {
  const holder = await readHolder(path.join(dir, `${project}.lock`)).catch(() => 'missing' as const);
  if (typeof holder !== 'object' || !holder.watchFile || !isAlive(holder)) return undefined;
  return { pid: holder.pid, command: holder.command, since: holder.since, file: holder.watchFile };
}

/**
 * The lock file appears whole or not at all: written under a private name, then hard-linked into place
 * (link fails if the name exists), so nobody ever reads a half-written holder.
 */
async function tryCreate(file: string, me: Holder): Promise<boolean> {
  const temp = `${file}.${me.pid}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(temp, JSON.stringify(me), { mode: 0o600 });
  try {
    await fs.link(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Removing a dead holder's lock is itself guarded (mkdir is atomic): without it, two takers could both
 * see the dead holder, and the second would remove the lock the first had just taken.
 */
async function takeOver(file: string, dead: Holder | 'corrupt'): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await fs.mkdir(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another taker is at it; a guard older than a few seconds belongs to a taker that died.
    const st = await fs.stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > TAKEOVER_STALE_MS) await fs.rmdir(guard).catch(() => undefined);
    await sleep(50);
    return;
  }
  try {
    const now = await readHolder(file);
    const same =
      now === 'corrupt'
        ? dead === 'corrupt'
        : now !== 'missing' &&
          dead !== 'corrupt' &&
          now.pid === dead.pid &&
          now.since === dead.since &&
          now.start === dead.start;
    if (same) await fs.rm(file, { force: true });
  } finally {
    await fs.rmdir(guard).catch(() => undefined);
  }
}

const TAKEOVER_STALE_MS = 5000;

/** The lock directory must be ours alone: anyone who can write it can lock us out or fake a holder. */
async function ensureLockDir(dir: string): Promise<void> {
  if (!(await ensurePrivateDir(dir, 0o022))) {
    throw new AgentctlError(
      'unsafe',
      `lock directory ${dir} is not a private directory of this user; remove it, or set AGENTCTL_LOCK_DIR to one`,
    );
  }
}

async function readHolder(file: string): Promise<Holder | 'missing' | 'corrupt'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === 'number' ? h : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** The holder's process still runs: its pid exists and, where the holder noted one, started when it did. */
function isAlive(holder: Holder): boolean {
  return processAlive(holder.pid, holder.start);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((r) => {
    if (signal?.aborted) return r();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
