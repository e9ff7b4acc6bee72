/**
 * cp with `-` on one side, as `docker cp` has it: a tar stream read from the caller (stdin) is extracted
 * into a directory of the agent, or a path of the agent goes to the caller (stdout) as a tar stream.
 *
 * Into the agent, the stream is the caller's and is not trusted: every entry is checked before it is
 * passed on to the engine, with the rules of a host-to-agent copy. Names that are absolute or hold `..`,
 * links that lead out of the destination (judged with every link of the archive followed, so that a chain
 * of links that each look harmless cannot climb out), writes under a link of the archive, hard links to
 * anything but a file of the archive, and devices or FIFOs are skipped and reported; the rest is copied,
 * owned by the agent's user. The engine then confines what it writes to the container.
 *
 * Out of the agent, the engine's archive goes out unchanged (as docker does); it is read on the way only
 * to count what it holds, for the summary.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import type { DockerPort } from '../docker/port.js';
import { readTar, type TarItem } from '../docker/tar-reader.js';
import { packTar, type TarWriteEntry } from '../docker/tar-writer.js';
import type { ResolvedAgent } from './resolve-agent.js';

export interface StreamTally {
  files: number;
  directories: number;
  links: number;
  bytes: number;
  /** Entries not copied, with why. */
  skipped: string[];
}

export const emptyTally = (): StreamTally => ({ files: 0, directories: 0, links: 0, bytes: 0, skipped: [] });

/** Links may point through at most this many links (as the kernel's limit): more is a loop. */
const MAX_HOPS = 40;

/**
 * The entries of a caller's tar that are safe to extract into a directory, as entries to re-pack for the
 * engine, owned by `owner`. Symlinks carry no content, so they are held back to the end of the archive:
 * only then is every link known, and a link is judged by where it leads through all of them.
 */
export async function* safeStreamEntries(
  items: AsyncIterable<TarItem>,
  owner: { uid: number; gid: number },
  tally: StreamTally,
): AsyncGenerator<TarWriteEntry> {
  // Archive paths (normalized, relative to the destination) of links, and of everything else sent,
  // with the directories those imply: a later link must not replace them.
  const links = new Map<string, string>();
  const linkOrder: { name: string; entry: TarWriteEntry }[] = [];
  const sent = new Set<string>();
  const files = new Set<string>();
  const skip = (name: string, why: string) => tally.skipped.push(`${name}: ${why}`);

  for await (const { entry, body } of items) {
    const parts = archiveParts(entry.name);
    if (typeof parts === 'string') {
      skip(entry.name, parts);
      continue;
    }
    // `.`: the destination itself (tar -C dir -c . starts with it); it is not the archive's to change.
    if (parts.length === 0) continue;
    const name = parts.join('/');
    const under = linkAbove(parts, links);
    if (under) {
      skip(entry.name, `${under} is a symlink in the archive; refusing to write through it`);
      continue;
    }
    const common = { name, mode: entry.mode & 0o777, mtime: entry.mtime, uid: owner.uid, gid: owner.gid };
    switch (entry.type) {
      case 'directory':
        if (links.has(name)) {
          skip(entry.name, 'the archive already made this path a symlink');
          continue;
        }
        markSent(parts, sent);
        tally.directories++;
        yield { ...common, type: 'directory' };
        break;
      case 'file':
        if (links.has(name)) {
          skip(entry.name, 'the archive already made this path a symlink');
          continue;
        }
        markSent(parts, sent);
        files.add(name);
        tally.files++;
        tally.bytes += entry.size;
        yield { ...common, type: 'file', size: entry.size, body };
        break;
      case 'hardlink': {
        const target = archiveParts(entry.linkname);
        const targetName = typeof target === 'string' ? undefined : target.join('/');
        if (targetName === undefined || !files.has(targetName) || links.has(name)) {
          skip(entry.name, `hard link to ${entry.linkname}, which is not a file of this archive`);
          continue;
        }
        markSent(parts, sent);
        files.add(name);
        tally.files++;
        yield { ...common, type: 'hardlink', linkname: targetName };
        break;
      }
      case 'symlink':
        if (sent.has(name) || links.has(name)) {
          skip(entry.name, 'would replace an entry this archive already copied');
          continue;
        }
        links.set(name, entry.linkname);
        linkOrder.push({ name: entry.name, entry: { ...common, type: 'symlink', linkname: entry.linkname } });
        break;
      default:
        skip(entry.name, 'not a file, directory or link (devices and FIFOs are not copied)');
    }
  }
  for (const { name, entry } of linkOrder) {
    // A link of the archive that came later may sit above this one.
    const above = linkAbove(entry.name.split('/'), links);
    if (above) {
      skip(name, `${above} is a symlink in the archive; refusing to write through it`);
      continue;
    }
    const why = linkLeavesDestination(entry.name, links);
    if (why) {
      skip(name, `symlink to ${entry.linkname} ${why}`);
      continue;
    }
    tally.links++;
    yield entry;
  }
}

/** An archive name as path components below the destination, or why it is refused. */
export function archiveParts(name: string): string[] | string {
  if (name.includes('\0')) return 'name contains a NUL byte';
  if (name.startsWith('/')) return 'absolute path';
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return 'path contains ".."';
  return parts;
}

/** The first proper prefix of `parts` that is a link of the archive. */
function linkAbove(parts: string[], links: ReadonlyMap<string, string>): string | undefined {
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (links.has(prefix)) return prefix;
  }
  return undefined;
}

function markSent(parts: string[], sent: Set<string>): void {
  for (let i = 1; i <= parts.length; i++) sent.add(parts.slice(0, i).join('/'));
}

/**
 * Why the link at archive path `name` leads out of the destination, following the archive's links the
 * way the kernel would (a `..` after a link climbs from where the link led); undefined if it stays in.
 * Climbing above the destination at any point counts as leaving it.
 */
export function linkLeavesDestination(name: string, links: ReadonlyMap<string, string>): string | undefined {
  const first = links.get(name);
  if (first === undefined) return undefined;
  let at = name.split('/').slice(0, -1);
  let pending = first.split('/');
  if (first === '') return 'is empty';
  if (path.posix.isAbsolute(first)) return 'is absolute (it would point outside the destination)';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) return 'leads outside the destination';
      at = at.slice(0, -1);
      continue;
    }
    const next = [...at, part];
    const target = links.get(next.join('/'));
    if (target === undefined) {
      at = next;
      continue;
    }
    if (++hops > MAX_HOPS) return 'is a loop of links';
    if (path.posix.isAbsolute(target)) return `leads outside the destination (through ${next.join('/')})`;
    // Relative to the directory the link sits in: `at`, unchanged.
    pending = [...target.split('/'), ...pending];
  }
  return undefined;
}

/** Extracts the caller's tar (`input`) into the agent's existing directory `dir`. */
export async function streamIntoAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  input: AsyncIterable<Buffer>,
  dir: string,
  owner: { uid: number; gid: number },
): Promise<StreamTally> {
  const tally = emptyTally();
  const items = readTar(input, { origin: 'the tar stream on stdin', kind: 'usage' });
  // A bad stream fails the upload part-way: what went wrong is the stream, not the engine's side.
  let streamError: unknown;
  async function* packed(): AsyncGenerator<Buffer> {
    try {
      yield* packTar(safeStreamEntries(items, owner, tally));
    } catch (err) {
      streamError = err;
      throw err;
    }
  }
  try {
    await port.putArchive(agent.id, dir, Readable.from(packed()));
  } catch (err) {
    throw streamError ?? err;
  }
  if (streamError) throw streamError;
  return tally;
}

/**
 * The engine's archive of `srcPath` written to `out` as it is, with backpressure, counted on the way.
 * Everything the archive holds goes out, the end-of-archive blocks included.
 */
export async function streamFromAgent(
  archive: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
): Promise<StreamTally> {
  const tally = emptyTally();
  const source = (archive as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const pass = async (): Promise<IteratorResult<Buffer>> => {
    const r = await source.next();
    if (!r.done) await write(out, r.value);
    return r;
  };
  // Read by the counter; ending the count early must not end the copy, so its return() is a no-op.
  const teed: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: pass,
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  try {
    for await (const { entry, body } of readTar(teed)) {
      if (entry.type === 'directory') tally.directories++;
      else if (entry.type === 'symlink') tally.links++;
      else if (entry.type === 'file' || entry.type === 'hardlink') tally.files++;
      for await (const chunk of body) tally.bytes += chunk.length;
    }
    // What follows the end-of-archive block (the second one, the padding to a record) goes out too.
    while (!(await pass()).done) {
      // written by pass()
    }
  } catch (err) {
    // A half-read response keeps its connection, and the process, alive.
    (archive as Readable).destroy?.();
    throw err;
  }
  return tally;
}

/** One chunk to `out`, resolved once it is handed on (so a slow reader slows the copy down). */
function write(out: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
