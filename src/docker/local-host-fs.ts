/**
 * The host-filesystem port (see host-fs.ts) for engines that run on this machine: node:fs here.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AgentctlError } from '../errors.js';
import { diskUsage } from '../util/disk-usage.js';
import type { HostEntryType, HostFs, HostSpace, HostStat } from './host-fs.js';

class LocalHostFs implements HostFs {
  readonly where = 'this host';

  get privileged(): boolean {
    return process.getuid?.() === 0;
  }

  async lstat(p: string): Promise<HostStat | undefined> {
    const st = await fs.lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (!st) return undefined;
    const type: HostEntryType = st.isSymbolicLink()
      ? 'symlink'
      : st.isDirectory()
        ? 'directory'
        : st.isFile()
          ? 'file'
          : 'other';
    return { type, uid: st.uid, gid: st.gid, mode: st.mode & 0o777, mtimeMs: st.mtimeMs };
  }

  async assertNoSymlinks(root: string, target: string): Promise<void> {
    const rel = path.relative(root, target);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new AgentctlError('unsafe', `${target} is outside the runtime directory ${root}`);
    }
    let cur = root;
    for (const part of ['', ...rel.split(path.sep).filter(Boolean)]) {
      cur = part ? path.join(cur, part) : cur;
      const st = await fs.lstat(cur).catch(() => undefined);
      if (!st) return; // the rest does not exist yet
      if (st.isSymbolicLink()) {
        throw new AgentctlError(
          'unsafe',
          `${cur} is a symlink; agentctl refuses to follow it (data must stay inside ${root})`,
        );
      }
    }
  }

  async ensureWorkDir(runtimeDir: string, workDir: string): Promise<void> {
    await this.assertNoSymlinks(runtimeDir, workDir);
    await fs.mkdir(path.dirname(path.dirname(workDir)), { recursive: true, mode: 0o755 });
    await fs.mkdir(path.dirname(workDir), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    try {
      await fs.mkdir(workDir, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fs.lstat(workDir);
      if (!st.isDirectory()) throw new AgentctlError('unsafe', `${workDir} exists and is not a directory`);
    }
  }

  async isEmptyDir(dir: string): Promise<boolean> {
    const handle = await fs.opendir(dir);
    try {
      return (await handle.read()) === null;
    } finally {
      await handle.close();
    }
  }

  chown(p: string, uid: number, gid: number): Promise<void> {
    return fs.lchown(p, uid, gid);
  }

  chmod(p: string, mode: number): Promise<void> {
    return fs.chmod(p, mode);
  }

  async reownTree(dir: string, uid: number, gid: number): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) await this.reownTree(child, uid, gid);
      else await fs.lchown(child, uid, gid);
    }
    await fs.lchown(dir, uid, gid);
  }

  removeTree(dir: string): Promise<void> {
    // fs.rm removes symlinks inside the tree as links: it never follows them.
    return fs.rm(dir, { recursive: true, force: true });
  }

  readdir(dir: string): Promise<string[] | undefined> {
    return fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  async realpath(p: string): Promise<string> {
    const abs = path.resolve(p);
    return fs.realpath(abs).catch(() => abs);
  }

  async spaceAt(p: string): Promise<HostSpace> {
    const existing = await nearestExisting(p);
    const st = await fs.stat(existing);
    const writable = await fs.access(existing, constants.W_OK).then(
      () => true,
      () => false,
    );
    const sfs = await fs.statfs(existing);
    return {
      path: existing,
      isDirectory: st.isDirectory(),
      writable,
      freeBytes: sfs.bavail * sfs.bsize,
      freeInodes: sfs.ffree,
      totalInodes: sfs.files,
    };
  }

  diskUsage(dir: string, opts?: { maxEntries?: number }) {
    return diskUsage(dir, opts);
  }
}

async function nearestExisting(p: string): Promise<string> {
  let cur = p;
  for (;;) {
    if (
      await fs.lstat(cur).then(
        () => true,
        () => false,
      )
    )
      return cur;
    const parent = path.dirname(cur);
    if (parent === cur) return cur;
    cur = parent;
  }
}

/** The one instance: this machine's disk. */
export const localHostFs: HostFs = new LocalHostFs();
