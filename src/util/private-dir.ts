import fs from 'node:fs/promises';

/**
 * Makes `dir` (0700, parents too) when missing, and says whether it is this user's alone: a directory,
 * not a symlink, owned by us, with none of `forbidden`'s mode bits (who else may write it, or read it).
 */
export async function ensurePrivateDir(dir: string, forbidden: number): Promise<boolean> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  const uid = process.getuid?.();
  return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & forbidden) === 0;
}
