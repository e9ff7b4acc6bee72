/**
 * A streaming reader for the tar archives the engine's archive endpoint produces (ustar with PAX or GNU
 * long-name extensions, as Go's archive/tar writes them). Entries come one at a time and their bodies
 * stream through, so a large copy never sits in memory. It only parses: deciding what is safe to write
 * is the caller's job (src/ops/host-extract.ts).
 */
import { AgentctlError } from '../errors.js';

const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** The path inside the archive, as written (PAX `path` or a GNU long name applied). */
  name: string;
  type: TarEntryType;
  size: number;
  /** Permission bits. */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Target of a symlink or hard link. */
  linkname: string;
}

export interface TarItem {
  entry: TarEntry;
  /** The entry's content. Whatever is not read is skipped when the next entry is asked for. */
  body: AsyncIterable<Buffer>;
}

/**
 * The archive's entries, one at a time. However reading ends (the end of the archive, a corrupt archive,
 * or a consumer that stops early by throwing or breaking), the source is closed (its iterator's
 * `return()`: a stream is destroyed), so nothing is left holding a connection open.
 */
export interface ReadTarOptions {
  /** What the archive is, for the message when it is not a valid tar (default: the engine's archive). */
  origin?: string;
  /** The kind of that error: a bad archive from the engine is the engine's fault, one on stdin the user's. */
  kind?: 'engine' | 'usage';
}

export async function* readTar(
  source: AsyncIterable<Buffer | string>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarItem> {
  const bytes = new ByteSource(source, opts);
  try {
    yield* entries(bytes);
  } catch (err) {
    // Raised by the header parsers, which do not know where the archive came from.
    if (err instanceof TarFormatError) throw bytes.corrupt(err.why);
    throw err;
  } finally {
    await bytes.close();
  }
}

async function* entries(bytes: ByteSource): AsyncGenerator<TarItem> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const header = await bytes.read(BLOCK, true);
    // The end: two zero blocks (or, from a sloppy writer, just the end of the stream).
    if (!header || header.every((b) => b === 0)) return;
    verifyChecksum(header);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const size = pax.size !== undefined ? Number(pax.size) : readNumber(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw corrupt('bad entry size');
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > 1024 * 1024) throw corrupt('extended header larger than 1 MiB');
      const data = await bytes.read(size);
      await bytes.skip(padding(size));
      if (typeflag === 'x') pax = { ...pax, ...parsePax(data) };
      else if (typeflag === 'L') longName = cString(data);
      else if (typeflag === 'K') longLink = cString(data);
      continue; // 'g' (global) carries nothing we use
    }
    const entry: TarEntry = {
      name: pax.path ?? longName ?? ustarName(header),
      type: entryType(typeflag),
      size,
      mode: readNumber(header, 100, 8) & 0o7777,
      mtime: pax.mtime !== undefined ? Math.floor(Number(pax.mtime)) : readNumber(header, 136, 12),
      linkname: pax.linkpath ?? longLink ?? field(header, 157, 100),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    // Links and directories have no content, whatever their size field says.
    const contentSize = entry.type === 'file' || entry.type === 'other' ? size : 0;
    const body = bytes.take(contentSize);
    yield { entry, body };
    for await (const _ of body) {
      // drain what the consumer left
    }
    await bytes.skip(padding(contentSize));
  }
}

function entryType(flag: string): TarEntryType {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return 'other';
}

function ustarName(header: Buffer): string {
  const name = field(header, 0, 100);
  const magic = header.subarray(257, 262).toString('latin1');
  const prefix = magic === 'ustar' ? field(header, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function field(header: Buffer, offset: number, length: number): string {
  return cString(header.subarray(offset, offset + length));
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end === -1 ? data.length : end).toString('utf8');
}

/** Octal text, or GNU base-256 (high bit set) for values that do not fit. */
function readNumber(header: Buffer, offset: number, length: number): number {
  const raw = header.subarray(offset, offset + length);
  if (((raw[0] ?? 0) & 0x80) !== 0) {
    let value = (raw[0] ?? 0) & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + (raw[i] ?? 0);
    return value;
  }
  const text = raw.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`bad number field "${text}"`);
  return parseInt(text, 8);
}

function verifyChecksum(header: Buffer): void {
  const stored = readNumber(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (sum !== stored) throw corrupt('header checksum mismatch');
}

/** PAX records: `<length> <key>=<value>\n`. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space === -1) break;
    const len = Number(data.subarray(off, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) throw corrupt('bad PAX record');
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    off += len;
  }
  return out;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function corrupt(why: string): TarFormatError {
  return new TarFormatError(why);
}

/** A malformed archive, before readTar names where it came from (see ByteSource.corrupt). */
class TarFormatError extends AgentctlError {
  constructor(readonly why: string) {
    super('engine', `the archive is not a valid tar (${why})`);
  }
}

/** Pull-style reading over an async iterable of chunks. */
class ByteSource {
  private pending: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | string>;
  private done = false;

  constructor(
    source: AsyncIterable<Buffer | string>,
    private readonly opts: ReadTarOptions = {},
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The error for a malformed archive, naming where it came from. */
  corrupt(why: string): AgentctlError {
    return new AgentctlError(
      this.opts.kind ?? 'engine',
      `${this.opts.origin ?? 'the archive from the engine'} is not a valid tar (${why})`,
    );
  }

  /** Exactly `n` bytes; at a clean end of stream with `eofOk`, undefined. */
  async read(n: number): Promise<Buffer>;
  async read(n: number, eofOk: true): Promise<Buffer | undefined>;
  async read(n: number, eofOk = false): Promise<Buffer | undefined> {
    while (this.pending.length < n && !this.done) await this.pull();
    if (this.pending.length < n) {
      if (eofOk && this.pending.length === 0) return undefined;
      throw this.corrupt('unexpected end of archive');
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      // discard
    }
  }

  /** The next `n` bytes as they arrive (each call's iterable is read at most once). */
  take(n: number): AsyncIterable<Buffer> {
    let left = n;
    const next = async (): Promise<Buffer | undefined> => {
      if (left === 0) return undefined;
      if (this.pending.length === 0) {
        if (this.done) throw this.corrupt('unexpected end of archive');
        await this.pull();
        if (this.pending.length === 0) return next();
      }
      const piece = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      return piece;
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const value = await next();
          return value === undefined ? { done: true, value: undefined } : { done: false, value };
        },
      }),
    };
  }

  /**
   * Stops reading: the source's iterator is told it is no longer wanted (`return()`, which destroys a
   * stream), unless it already ended. Never throws: it runs on the way out of an error, which must not be
   * hidden, and what is left of the source is of no use either way.
   */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.pending = Buffer.alloc(0);
    try {
      await this.it.return?.();
    } catch {
      // already failed or closed: nothing left to release
    }
  }

  private async pull(): Promise<void> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }
}
