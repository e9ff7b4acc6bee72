/**
 * A per-project lock so two agentctl runs that change the same project never interleave.
 * An exclusive-create lock file holds the owner's pid; a lock whose owner is dead is stale and taken over.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentctlError } from './errors.js';

export interface LockOptions {
  /** How long to wait for another run to finish (0 = fail at once). */
  waitMs?: number;
  /** Called once when we start waiting, with the holder's description. */
  onWait?: (holder: string) => void;
  /** Directory for lock files (default: AGENTCTL_LOCK_DIR or <tmpdir>/agentctl-locks). */
  dir?: string;
}

export type Release = () => Promise<void>;

interface Holder {
  pid: number;
  command: string;
  since: string;
}

export function lockDir(): string {
  return process.env.AGENTCTL_LOCK_DIR ?? path.join(os.tmpdir(), 'agentctl-locks');
}

export async function acquireLock(project: string, opts: LockOptions = {}): Promise<Release> {
  const dir = opts.dir ?? lockDir();
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${project}.lock`);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const me: Holder = {
    pid: process.pid,
    command: process.argv.slice(2).join(' '),
    since: new Date().toISOString(),
  };
  let warned = false;
  for (;;) {
    try {
      await fs.writeFile(file, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return async () => {
        // Only remove it if it is still ours.
        const holder = await readHolder(file);
        if (holder?.pid === process.pid) await fs.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(file);
    if (!holder || !isAlive(holder.pid)) {
      // The previous owner died without releasing it (or is mid-write): take it over.
      await sleep(50);
      const again = await readHolder(file);
      // Someone else took it over (or finished writing) meanwhile: look again instead of removing theirs.
      if (again && (again.pid !== holder?.pid || again.since !== holder.since)) continue;
      await fs.rm(file, { force: true });
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
    await sleep(200);
  }
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await fs.readFile(file, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
