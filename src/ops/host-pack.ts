/**
 * A host file or directory as tar entries for an upload into an agent: walked with lstat, so a symlink
 * is sent as a link and never followed (what it points to on the host stays on the host). A link that
 * points out of what is copied (absolute, or climbing out with `..`) is skipped and reported, as the
 * other direction does: it would mean something else in the agent, and the engine refuses the whole
 * upload part-way for one that climbs out of the destination. Sockets, FIFOs and devices are skipped
 * and reported.
 */
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { TarWriteEntry } from '../docker/tar-writer.js';
import { linkEscapes } from './host-extract.js';

export interface PackTally {
  files: number;
  directories: number;
  links: number;
  bytes: number;
  /** Host paths not sent, with why. */
  skipped: string[];
}

/**
 * Entries for `src`, named `rootName` in the archive, owned by `owner` (the agent's user, so the agent
 * can change what it is given). `tally` is filled in as the entries are read.
 */
export async function* hostEntries(
  src: string,
  rootName: string,
  owner: { uid: number; gid: number },
  tally: PackTally,
): AsyncGenerator<TarWriteEntry> {
  const pending: { abs: string; name: string }[] = [{ abs: src, name: rootName }];
  // What the links must stay inside: the copied directory, or the directory a single entry sits in.
  const top = await fs.lstat(src).catch(() => undefined);
  const root = top?.isDirectory() ? src : path.dirname(src);
  while (pending.length > 0) {
    const { abs, name } = pending.pop() as { abs: string; name: string };
    let st: Stats;
    try {
      st = await fs.lstat(abs);
    } catch (err) {
      tally.skipped.push(`${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const common = {
      name,
      mode: st.mode & 0o777,
      mtime: Math.floor(st.mtimeMs / 1000),
      uid: owner.uid,
      gid: owner.gid,
    };
    if (st.isSymbolicLink()) {
      const linkname = await fs.readlink(abs);
      const escape = linkEscapes(root, abs, linkname);
      if (escape) {
        tally.skipped.push(
          `${abs}: symlink to ${linkname} ${escape.replace('destination', 'copied directory')}`,
        );
        continue;
      }
      tally.links++;
      yield { ...common, type: 'symlink', linkname };
    } else if (st.isFile()) {
      tally.files++;
      tally.bytes += st.size;
      yield { ...common, type: 'file', size: st.size, body: createReadStream(abs) };
    } else if (st.isDirectory()) {
      tally.directories++;
      yield { ...common, type: 'directory' };
      const children = await fs.readdir(abs).catch((err: NodeJS.ErrnoException) => {
        tally.skipped.push(`${abs}: cannot list (${err.code ?? err.message})`);
        return [] as string[];
      });
      // Reversed onto the stack, so entries go out in name order.
      for (const child of children.sort().reverse()) {
        pending.push({ abs: path.join(abs, child), name: `${name}/${child}` });
      }
    } else {
      tally.skipped.push(`${abs}: not a regular file, directory or symlink`);
    }
  }
}
