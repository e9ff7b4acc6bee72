/**
 * Extracts a tar from an agent onto the host without ever writing outside the destination directory:
 * entries with absolute names or `..` are refused, nothing is written through an existing symlink
 * (every parent is checked with lstat, files are opened with O_NOFOLLOW and replaced rather than
 * rewritten), links whose targets leave the destination are refused, hard links are made only to files
 * this extraction wrote, and after extraction every link made is resolved again (chains included) and
 * removed if it leads out. Refused entries are skipped and reported; the rest is copied.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { readTar } from '../docker/tar-reader.js';

export interface ExtractTally {
  files: number;
  directories: number;
  links: number;
  bytes: number;
  /** Entries not written, with why. */
  refused: string[];
}

export interface ExtractOptions {
  /** The existing directory everything is written under (resolved: no symlink in it matters). */
  dir: string;
  /** The archive's top-level name (the copied path's base name) and the name to give it here. */
  rootName: string;
  targetName: string;
}

const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export async function extractToHost(tar: AsyncIterable<Buffer>, opts: ExtractOptions): Promise<ExtractTally> {
  const tally: ExtractTally = { files: 0, directories: 0, links: 0, bytes: 0, refused: [] };
  const root = opts.dir;
  const links: string[] = [];
  // Directories are made writable while we fill them; their own modes are applied at the end.
  const dirModes: [string, number, number][] = [];
  const safeDirs = new Set<string>([root]);
  // The regular files this extraction made, by destination path (every parent a real directory, checked
  // when it was written) with the inode made there: the only things a hard link may point to. A name is
  // never resolved through the file system to find a hard link's target, so no symlink is followed.
  const written = new Map<string, { dev: number; ino: number }>();

  for await (const { entry, body } of readTar(tar)) {
    const target = targetOf(entry.name, opts);
    if (typeof target !== 'string') {
      tally.refused.push(`${entry.name}: ${target.refused}`);
      continue;
    }
    const problem = await checkParents(root, target, safeDirs);
    if (problem) {
      tally.refused.push(`${entry.name}: ${problem}`);
      continue;
    }
    const existing = await fs.lstat(target).catch(() => undefined);
    const rel = path.relative(root, target);
    if (existing?.isSymbolicLink()) {
      tally.refused.push(`${entry.name}: ${rel} is an existing symlink; refusing to write through it`);
      continue;
    }
    // Whatever this entry makes here, the file written here before is no longer what the path names.
    written.delete(target);
    switch (entry.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) {
          tally.refused.push(`${entry.name}: ${rel} exists and is not a directory`);
          continue;
        }
        if (!existing) await fs.mkdir(target, { mode: 0o700 });
        safeDirs.add(target);
        dirModes.push([target, entry.mode & 0o777, entry.mtime]);
        tally.directories++;
        break;
      }
      case 'file': {
        if (existing?.isDirectory()) {
          tally.refused.push(`${entry.name}: ${rel} exists and is a directory`);
          continue;
        }
        // Replace, never rewrite: an existing file may be a hard link to a file elsewhere.
        if (existing) await fs.unlink(target);
        const handle = await fs.open(target, WRITE_NEW, 0o600);
        try {
          const { dev, ino } = await handle.stat();
          written.set(target, { dev, ino });
          for await (const chunk of body) {
            await handle.write(chunk);
            tally.bytes += chunk.length;
          }
          await handle.chmod(entry.mode & 0o777);
        } finally {
          await handle.close();
        }
        await fs.utimes(target, entry.mtime, entry.mtime).catch(() => undefined);
        tally.files++;
        break;
      }
      case 'symlink': {
        const escape = linkEscapes(root, target, entry.linkname);
        if (escape) {
          tally.refused.push(`${entry.name}: symlink to ${entry.linkname} ${escape}`);
          continue;
        }
        if (existing?.isDirectory()) {
          tally.refused.push(`${entry.name}: ${rel} exists and is a directory`);
          continue;
        }
        if (existing) await fs.unlink(target);
        await fs.symlink(entry.linkname, target);
        links.push(target);
        tally.links++;
        break;
      }
      case 'hardlink': {
        // Only to a file this extraction wrote, named by its path here as written (`..` is refused, so
        // the name is already resolved, and no symlink on the way is followed), and still that file.
        const source = targetOf(entry.linkname, opts);
        const made = typeof source === 'string' ? written.get(source) : undefined;
        const sourceSt =
          typeof source === 'string' && made ? await fs.lstat(source).catch(() => undefined) : undefined;
        if (
          typeof source !== 'string' ||
          !made ||
          !sourceSt?.isFile() ||
          sourceSt.dev !== made.dev ||
          sourceSt.ino !== made.ino
        ) {
          tally.refused.push(
            `${entry.name}: hard link to ${entry.linkname}, which is not a file copied here`,
          );
          continue;
        }
        if (existing?.isDirectory()) {
          tally.refused.push(`${entry.name}: ${rel} exists and is a directory`);
          continue;
        }
        if (existing) await fs.unlink(target);
        await fs.link(source, target);
        // The same file, made by this extraction: a later hard link may name it by either path.
        written.set(target, made);
        tally.files++;
        break;
      }
      default:
        tally.refused.push(`${entry.name}: not a file, directory or link (devices and FIFOs are not copied)`);
    }
  }

  // A link that was inside on its own may lead out through another link: resolve each one fully.
  const realRoot = await fs.realpath(root);
  for (const link of links) {
    if (!(await resolvesInside(realRoot, link))) {
      await fs.unlink(link);
      tally.links--;
      tally.refused.push(`${path.relative(root, link)}: symlink leads outside the destination (removed)`);
    }
  }
  for (const [dir, mode, mtime] of dirModes.reverse()) {
    await fs.chmod(dir, mode | 0o700).catch(() => undefined);
    await fs.utimes(dir, mtime, mtime).catch(() => undefined);
  }
  return tally;
}

/** The host path of an archive name, or why it is refused. */
export function targetOf(name: string, opts: ExtractOptions): string | { refused: string } {
  if (name.includes('\0')) return { refused: 'name contains a NUL byte' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return { refused: 'absolute path' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { refused: 'path contains ".."' };
  if (parts[0] !== opts.rootName) return { refused: `not under the copied path ${opts.rootName}` };
  if (parts.some((p) => p.includes('\\'))) return { refused: 'name contains a backslash' };
  parts[0] = opts.targetName;
  return path.join(opts.dir, ...parts);
}

/** Every parent from `root` down to `target` must be a real directory: never a symlink. */
async function checkParents(
  root: string,
  target: string,
  safeDirs: Set<string>,
): Promise<string | undefined> {
  const chain: string[] = [];
  for (let dir = path.dirname(target); dir !== root; dir = path.dirname(dir)) {
    if (!dir.startsWith(root + path.sep)) return 'outside the destination';
    chain.unshift(dir);
  }
  for (const dir of chain) {
    if (safeDirs.has(dir)) continue;
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st) {
      // A parent the archive did not list first: make it.
      await fs.mkdir(dir, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      return `${path.relative(root, dir)} is a symlink; refusing to write through it`;
    } else if (!st.isDirectory()) {
      return `${path.relative(root, dir)} is not a directory`;
    }
    safeDirs.add(dir);
  }
  return undefined;
}

/** Why a link at `at` pointing to `linkname` leaves `root`, judged by its text; undefined if it stays. */
export function linkEscapes(root: string, at: string, linkname: string): string | undefined {
  if (linkname === '') return 'is empty';
  if (path.isAbsolute(linkname)) return 'is absolute (it would point outside the destination)';
  const resolved = path.resolve(path.dirname(at), linkname);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) return 'leads outside the destination';
  return undefined;
}

/**
 * Follows `link` the way the kernel does, one component at a time (so `..` after a link climbs from
 * where the link led, not from where it was written), and checks where it ends.
 */
async function resolvesInside(realRoot: string, link: string): Promise<boolean> {
  let at = await fs.realpath(path.dirname(link));
  let pending = [path.basename(link)];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      at = path.dirname(at);
      continue;
    }
    const next = path.join(at, part);
    const st = await fs.lstat(next).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      at = next; // a directory, a file, or nothing yet: the rest is read as written
      continue;
    }
    if (++hops > 40) return false; // a loop: leads nowhere, and nothing worth keeping
    const target = await fs.readlink(next);
    if (path.isAbsolute(target)) at = '/';
    pending = [...target.split('/'), ...pending];
  }
  return inside(realRoot, at);
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}
