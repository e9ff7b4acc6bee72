/**
 * Parsed agents files, kept between CLI runs. Reading, validating and normalising a 1000-agent file is
 * most of what a no-op `apply` or `ps` does besides asking the engine (about 0.15 s of CPU of 1.1 s,
 * against 0.03 s to read the kept result back; see README "Measured at 1000 agents"). Parsing is pure:
 * the same bytes, at the same path, parsed by the same build of agentctl, give the same DesiredState. So
 * the result is kept under a key made of exactly those, and a file whose bytes changed in any way is
 * parsed again.
 *
 * What is kept is trusted as if agentctl had just parsed it, so it lives only in a directory private to
 * the user (created 0700; one that is not theirs alone, or is a symlink, is never read). Anything wrong
 * with the cache (unwritable, corrupt, another build's entry) only means parsing again: it never changes
 * a result and never fails a command. Only successful parses are kept: a file with problems is parsed,
 * and reported, every time.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DesiredState } from '../types.js';
import { ensurePrivateDir } from '../util/private-dir.js';
import type { NormalizeOptions } from './normalize.js';

/** Bumped when the entry's layout changes (the build id already covers a change in what parsing means). */
const FORMAT = 1;

/** Entries of files not changed for this long are removed when another entry is written. */
const KEEP_MS = 30 * 24 * 3600 * 1000;

export interface ParseCache {
  /** The state parsed from `text` at `opts` before, if kept. */
  get(text: string, opts: NormalizeOptions): Promise<DesiredState | undefined>;
  /** Keeps a successful parse (best effort: errors are swallowed). */
  put(text: string, opts: NormalizeOptions, desired: DesiredState): Promise<void>;
}

interface Entry {
  format: number;
  key: string;
  desired: DesiredState;
}

/**
 * `buildId` names the code that parses (the CLI's bundle has one; see scripts/bundle-cli.mjs): an entry
 * another build wrote is never used. One entry per file path, replaced when the file's bytes change.
 */
export function fileParseCache(dir: string, buildId: string): ParseCache {
  let usable: Promise<boolean> | undefined;
  const ready = () => (usable ??= privateDir(dir));
  const entryFile = (opts: NormalizeOptions) =>
    path.join(dir, `config-${sha256(opts.file).slice(0, 32)}.json`);
  const keyOf = (text: string, opts: NormalizeOptions) =>
    sha256(
      `${JSON.stringify([FORMAT, buildId, process.version, opts.file, opts.baseDir, opts.defaultProject])}\n${text}`,
    );
  return {
    async get(text, opts) {
      if (!(await ready())) return undefined;
      try {
        const entry = JSON.parse(await fs.readFile(entryFile(opts), 'utf8')) as Partial<Entry>;
        return entry.format === FORMAT && entry.key === keyOf(text, opts) ? entry.desired : undefined;
      } catch {
        return undefined;
      }
    },
    async put(text, opts, desired) {
      if (!(await ready())) return;
      const file = entryFile(opts);
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const entry: Entry = { format: FORMAT, key: keyOf(text, opts), desired };
      try {
        // Whole or not at all: a reader sees the old entry or the new one, never half of one.
        await fs.writeFile(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
        await fs.rename(tmp, file);
      } catch {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
      }
      await removeOld(dir);
    },
  };
}

/**
 * The CLI's cache directory: AGENTCTL_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/agentctl, else
 * ~/.cache/agentctl.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AGENTCTL_CACHE_DIR !== undefined) return env.AGENTCTL_CACHE_DIR || undefined;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'agentctl');
}

/**
 * One entry per file path ever parsed is a directory that only grows (files in temporary directories,
 * moved checkouts): what was not rewritten for KEEP_MS goes. Only when an entry is written, so a no-op
 * run pays nothing for it.
 */
async function removeOld(dir: string): Promise<void> {
  const now = Date.now();
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith('config-'))
      .map(async (n) => {
        const p = path.join(dir, n);
        const st = await fs.lstat(p).catch(() => undefined);
        if (st && now - st.mtimeMs > KEEP_MS) await fs.rm(p, { force: true }).catch(() => undefined);
      }),
  );
}

/**
 * Ours alone, and not even readable by others: anyone who could write it could make agentctl run a
 * file of theirs, and what it holds says what runs and where its secrets come from.
 */
async function privateDir(dir: string): Promise<boolean> {
  return ensurePrivateDir(dir, 0o077).catch(() => false);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
