/** The tar reader and writer: round trips, the formats Go's archive/tar writes, and broken input. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readTar, type TarEntry } from '../../src/docker/tar-reader.js';
import { packTar, tarHeader, type TarWriteEntry } from '../../src/docker/tar-writer.js';

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function pack(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of packTar(from(entries))) parts.push(p);
  return Buffer.concat(parts);
}

/** Reads everything; `chunk` splits the input into pieces of that size, as a socket might. */
async function read(tar: Buffer, chunk = tar.length): Promise<{ entry: TarEntry; data: Buffer }[]> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) pieces.push(tar.subarray(i, i + chunk));
  const out: { entry: TarEntry; data: Buffer }[] = [];
  for await (const { entry, body } of readTar(from(pieces))) {
    const parts: Buffer[] = [];
    for await (const b of body) parts.push(Buffer.from(b));
    out.push({ entry, data: Buffer.concat(parts) });
  }
  return out;
}

const base = { mode: 0o644, mtime: 1_700_000_000, uid: 1000, gid: 1000 };

describe('tar writer -> reader', () => {
  const binary = randomBytes(70_000);
  const longName = `top/${'d'.repeat(120)}/${'f'.repeat(110)}.bin`;
  // Bodies are one-shot streams: a fresh list per archive.
  const entries = (): TarWriteEntry[] => [
    { ...base, name: 'top', type: 'directory', mode: 0o755 },
    { ...base, name: 'top/binary.dat', type: 'file', size: binary.length, body: from([binary]) },
    { ...base, name: 'top/empty', type: 'file', size: 0, body: from([]) },
    { ...base, name: longName, type: 'file', size: 3, body: from([Buffer.from('abc')]) },
    { ...base, name: 'top/ünïcödé.txt', type: 'file', size: 1, body: from([Buffer.from('u')]) },
    { ...base, name: 'top/link', type: 'symlink', linkname: `../${'x'.repeat(150)}` },
  ];

  it.each([1, 7, 512, 4096, 1 << 20])(
    'round-trips names, links and binary content in %i-byte pieces',
    async (n) => {
      const got = await read(await pack(entries()), n);
      expect(got.map((g) => [g.entry.name, g.entry.type, g.entry.linkname])).toEqual([
        ['top/', 'directory', ''],
        ['top/binary.dat', 'file', ''],
        ['top/empty', 'file', ''],
        [longName, 'file', ''],
        ['top/ünïcödé.txt', 'file', ''],
        ['top/link', 'symlink', `../${'x'.repeat(150)}`],
      ]);
      expect(got[1]?.data.equals(binary)).toBe(true);
      expect(got[3]?.data.toString()).toBe('abc');
      expect(got[0]?.entry.mode).toBe(0o755);
      expect(got[1]?.entry.mtime).toBe(1_700_000_000);
    },
  );

  it('skips a body the consumer did not read', async () => {
    const tar = await pack(entries());
    const names: string[] = [];
    for await (const { entry } of readTar(from([tar]))) names.push(entry.name);
    expect(names).toHaveLength(entries().length);
  });

  it('cuts or pads a file whose size changed while it was read, keeping the archive valid', async () => {
    const tar = await pack([
      { ...base, name: 'grew', type: 'file', size: 2, body: from([Buffer.from('abcdef')]) },
      { ...base, name: 'shrank', type: 'file', size: 4, body: from([Buffer.from('x')]) },
    ]);
    const got = await read(tar);
    expect(got.map((g) => g.data.toString('latin1'))).toEqual(['ab', 'x\0\0\0']);
  });
});

describe('tar reader', () => {
  it('reads a GNU long name (typeflag L) and a base-256 size field', async () => {
    const name = `n/${'y'.repeat(200)}`;
    const longHeader = tarHeader({ ...base, name: '././@LongLink', type: 'file', size: name.length + 1 });
    longHeader[156] = 'L'.charCodeAt(0);
    fixChecksum(longHeader);
    const nameBlock = Buffer.alloc(512);
    nameBlock.write(name);
    const file = tarHeader({ ...base, name: 'short', type: 'file', size: 0 });
    // Size 5 as GNU base-256: high bit set, big-endian in the remaining bytes.
    file.fill(0, 124, 136);
    file[124] = 0x80;
    file[135] = 5;
    fixChecksum(file);
    const data = Buffer.alloc(512);
    data.write('hello');
    const got = await read(Buffer.concat([longHeader, nameBlock, file, data, Buffer.alloc(1024)]));
    expect(got.map((g) => [g.entry.name, g.data.toString()])).toEqual([[name, 'hello']]);
  });

  it('refuses a header whose checksum is wrong', async () => {
    const tar = await pack([{ ...base, name: 'a', type: 'file', size: 1, body: from([Buffer.from('a')]) }]);
    tar[0] = 'b'.charCodeAt(0);
    await expect(read(tar)).rejects.toThrow(/checksum/);
  });

  it('refuses an archive cut off in the middle of a body', async () => {
    const tar = await pack([
      { ...base, name: 'a', type: 'file', size: 2000, body: from([Buffer.alloc(2000)]) },
    ]);
    await expect(read(tar.subarray(0, 1000))).rejects.toThrow(/unexpected end/);
  });

  it('ends at the end of the stream even without the two zero blocks', async () => {
    const tar = await pack([{ ...base, name: 'a', type: 'file', size: 1, body: from([Buffer.from('a')]) }]);
    expect((await read(tar.subarray(0, 1024))).map((g) => g.entry.name)).toEqual(['a']);
  });
});

describe('tar reader: the source is closed however reading ends', () => {
  /** Three entries with bodies, in 512-byte pieces, as an iterable whose iterator records return(). */
  async function tracked() {
    const tar = await pack(
      ['a', 'b', 'c'].map((name) => ({
        ...base,
        name,
        type: 'file' as const,
        size: 2000,
        body: from([Buffer.alloc(2000, name)]),
      })),
    );
    const pieces: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 512) pieces.push(tar.subarray(i, i + 512));
    const state = { returned: 0, pulled: 0, total: pieces.length };
    const source: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const value = pieces[state.pulled];
          if (value === undefined) return { done: true, value: undefined };
          state.pulled++;
          return { done: false, value };
        },
        return: async () => {
          state.returned++;
          return { done: true, value: undefined };
        },
      }),
    };
    return { source, state };
  }

  it('calls return() on the source when the consumer throws mid-archive', async () => {
    const { source, state } = await tracked();
    const consume = async () => {
      for await (const { entry, body } of readTar(source)) {
        for await (const _ of body) throw new Error(`disk full writing ${entry.name}`);
      }
    };
    await expect(consume()).rejects.toThrow('disk full writing a');
    expect(state.returned).toBe(1);
    expect(state.pulled).toBeLessThan(state.total); // it stopped reading too
  });

  it('calls return() on the source when the consumer breaks early', async () => {
    const { source, state } = await tracked();
    for await (const { entry } of readTar(source)) if (entry.name === 'b') break;
    expect(state.returned).toBe(1);
  });

  it('calls return() on the source when the archive is corrupt', async () => {
    const { source, state } = await tracked();
    const broken: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        const it = source[Symbol.asyncIterator]();
        let n = 0;
        // The second entry's header (after 512 + 2048 bytes) has a bad checksum.
        const next = async () => {
          const r = await it.next();
          if (r.done || n++ !== 5) return r;
          const header = Buffer.from(r.value);
          header[0] = 'z'.charCodeAt(0);
          return { done: false, value: header };
        };
        return { next, return: () => it.return!() };
      },
    };
    await expect(
      (async () => {
        for await (const _ of readTar(broken)) {
          // read on
        }
      })(),
    ).rejects.toThrow(/checksum/);
    expect(state.returned).toBe(1);
  });

  it('destroys a stream source when the consumer throws', async () => {
    const { source } = await tracked();
    const stream = Readable.from(source);
    await expect(
      (async () => {
        for await (const { entry } of readTar(stream)) throw new Error(`stop at ${entry.name}`);
      })(),
    ).rejects.toThrow('stop at a');
    expect(stream.destroyed).toBe(true);
  });

  it('does not call return() on a source that ended', async () => {
    const { source, state } = await tracked();
    const names: string[] = [];
    const all: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        const it = source[Symbol.asyncIterator]();
        // Without the closing zero blocks: the archive ends where the stream does.
        const next = async () =>
          state.pulled >= state.total - 2 ? { done: true as const, value: undefined } : it.next();
        return { next, return: () => it.return!() };
      },
    };
    for await (const { entry } of readTar(all)) names.push(entry.name);
    expect(names).toEqual(['a', 'b', 'c']);
    expect(state.returned).toBe(0);
  });
});

function fixChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}
