/**
 * Disk use of a directory tree on the host, like `du -s`: allocated blocks, each inode counted once,
 * symlinks never followed (lstat), and bounded so that a huge or hostile tree cannot stall a command.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface DiskUsage {
  bytes: number;
  /** Files, directories and links seen. */
  entries: number;
  /** False when the walk stopped at the bound or could not read some directory: `bytes` is a lower bound. */
  complete: boolean;
}

export const DEFAULT_MAX_ENTRIES = 200_000;

/** undefined when `dir` does not exist. A symlink or a file at `dir` counts as itself. */
export async function diskUsage(
  dir: string,
  opts: { maxEntries?: number } = {},
): Promise<DiskUsage | undefined> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const root = await fs.lstat(dir).catch(() => undefined);
  if (!root) return undefined;
  const seen = new Set<string>();
  const usage: DiskUsage = { bytes: 0, entries: 0, complete: true };
  const count = (st: { blocks: number; nlink: number; dev: number; ino: number }) => {
    usage.entries++;
    // A file with several hard links occupies its blocks once.
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    usage.bytes += st.blocks * 512;
  };
  count(root);
  if (!root.isDirectory()) return usage;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const names = await fs.readdir(current).catch(() => undefined);
    if (!names) {
      usage.complete = false;
      continue;
    }
    for (let i = 0; i < names.length; i += 64) {
      const batch = names.slice(i, i + 64);
      if (usage.entries + batch.length > maxEntries) {
        usage.complete = false;
        return usage;
      }
      const stats = await Promise.all(
        batch.map((name) => {
          const p = path.join(current, name);
          return fs.lstat(p).then(
            (st) => ({ p, st }),
            () => undefined,
          );
        }),
      );
      for (const s of stats) {
        if (!s) {
          usage.complete = false;
          continue;
        }
        count(s.st);
        if (s.st.isDirectory()) pending.push(s.p);
      }
    }
  }
  return usage;
}
