/**
 * Writes tar archives (ustar, with a PAX header where a name, link or size does not fit) as a stream,
 * for the engine's archive upload. Bodies stream through: a large file is never held in memory.
 */
const BLOCK = 512;
/** The largest size the 11-digit octal field holds (8 GiB - 1). */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

export interface TarWriteEntry {
  /** Path inside the archive (`/`-separated, relative). */
  name: string;
  /** A hard link names an earlier entry of the same archive by its name there (`linkname`). */
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  uid: number;
  gid: number;
  /** Files: the content's length; the body is cut or zero-padded to it if the file changed meanwhile. */
  size?: number;
  linkname?: string;
  body?: AsyncIterable<Buffer>;
}

const TYPEFLAG: Record<TarWriteEntry['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
};

export async function* packTar(entries: AsyncIterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    yield tarHeader(entry);
    if (entry.type !== 'file') continue;
    const size = entry.size ?? 0;
    let written = 0;
    for await (const chunk of entry.body ?? []) {
      const piece = chunk.subarray(0, Math.max(0, size - written));
      if (piece.length === 0) break;
      written += piece.length;
      yield piece;
    }
    // A file that shrank while being read: keep the archive well-formed (the header promised `size`).
    if (written < size) yield Buffer.alloc(size - written);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** The header block(s) of one entry: a PAX extended header first when the ustar fields cannot hold it. */
export function tarHeader(entry: TarWriteEntry): Buffer {
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const linkname = entry.linkname ?? '';
  const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
  const pax: Record<string, string> = {};
  if (!fitsAscii(name, 100)) pax.path = name;
  if (!fitsAscii(linkname, 100)) pax.linkpath = linkname;
  if (size > MAX_OCTAL_SIZE) pax.size = String(size);
  const main = ustarBlock({
    name: pax.path ? name.replace(/[^\x20-\x7e]/g, '_').slice(-99) : name,
    linkname: pax.linkpath ? '' : linkname,
    size: pax.size ? 0 : size,
    typeflag: TYPEFLAG[entry.type],
    mode: entry.mode & 0o7777,
    mtime: entry.mtime,
    uid: entry.uid,
    gid: entry.gid,
  });
  if (Object.keys(pax).length === 0) return main;
  const data = Buffer.from(
    Object.entries(pax)
      .map(([k, v]) => paxRecord(k, v))
      .join(''),
    'utf8',
  );
  const paxHeader = ustarBlock({
    name: 'PaxHeader',
    linkname: '',
    size: data.length,
    typeflag: 'x',
    mode: 0o644,
    mtime: entry.mtime,
    uid: 0,
    gid: 0,
  });
  const pad = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  return Buffer.concat([paxHeader, data, pad, main]);
}

interface UstarFields {
  name: string;
  linkname: string;
  size: number;
  typeflag: string;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
}

function ustarBlock(f: UstarFields): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(f.name, 0, 100, 'utf8');
  octal(h, 100, 8, f.mode);
  octal(h, 108, 8, f.uid);
  octal(h, 116, 8, f.gid);
  octal(h, 124, 12, f.size);
  octal(h, 136, 12, Math.max(0, Math.floor(f.mtime)));
  h.write(f.typeflag, 156, 1, 'latin1');
  h.write(f.linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'latin1');
  // The checksum is computed with its own field as spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return h;
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  // Values too large for the field (ids above 2097151) are clamped; sizes that large go to PAX.
  const max = 8 ** (length - 1) - 1;
  h.write(
    `${Math.min(value, max)
      .toString(8)
      .padStart(length - 1, '0')}\u0000`,
    offset,
    length,
    'latin1',
  );
}

function fitsAscii(s: string, max: number): boolean {
  return s.length < max && /^[\x20-\x7e]*$/.test(s);
}

/** `<length> key=value\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(bodyLen).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}
