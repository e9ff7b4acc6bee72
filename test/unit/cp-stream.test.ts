/**
 * cp with `-`: which entries of a caller's tar stream may go into an agent (tables of hostile names and
 * links), and the agent's archive written out byte for byte while it is counted.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readTar } from '../../src/docker/tar-reader.js';
import { packTar, type TarWriteEntry } from '../../src/docker/tar-writer.js';
import {
  emptyTally,
  linkLeavesDestination,
  safeStreamEntries,
  streamFromAgent,
} from '../../src/ops/cp-stream.js';

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function pack(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of packTar(from(entries))) parts.push(p);
  return Buffer.concat(parts);
}

const base = { mode: 0o644, mtime: 1_700_000_000, uid: 0, gid: 0 };
const file = (name: string, text = 'x'): TarWriteEntry => ({
  ...base,
  name,
  type: 'file',
  size: Buffer.byteLength(text),
  body: from([Buffer.from(text)]),
});
const dir = (name: string): TarWriteEntry => ({ ...base, name, type: 'directory', mode: 0o755 });
const link = (name: string, linkname: string): TarWriteEntry => ({
  ...base,
  name,
  type: 'symlink',
  linkname,
});
const hard = (name: string, linkname: string): TarWriteEntry => ({
  ...base,
  name,
  type: 'hardlink',
  linkname,
});

/** What would be passed on to the engine (names and types, file contents), and the tally. */
async function filter(entries: TarWriteEntry[]) {
  const tally = emptyTally();
  const out: string[] = [];
  const items = readTar(from([await pack(entries)]), { origin: 'stdin', kind: 'usage' });
  for await (const e of safeStreamEntries(items, { uid: 1000, gid: 1001 }, tally)) {
    let text = '';
    for await (const b of e.body ?? []) text += b.toString();
    out.push(`${e.type} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}${text ? ` = ${text}` : ''}`);
    expect([e.uid, e.gid]).toEqual([1000, 1001]);
  }
  return { out, tally };
}

describe('safeStreamEntries', () => {
  it('passes an ordinary archive on, normalized, owned by the agent, links last', async () => {
    const { out, tally } = await filter([
      dir('.'),
      dir('./d'),
      link('./d/l', 'f'),
      file('./d/f', 'hello'),
      hard('d/h', './d/f'),
    ]);
    expect(out).toEqual(['directory d', 'file d/f = hello', 'hardlink d/h -> d/f', 'symlink d/l -> f']);
    expect(tally).toEqual({ files: 2, directories: 1, links: 1, bytes: 5, skipped: [] });
  });

  const refused: [string, TarWriteEntry[], string[], RegExp][] = [
    ['a name that climbs out', [file('../escape')], [], /^\.\.\/escape: path contains "\.\."$/],
    ['a climb in the middle', [file('a/../../escape')], [], /path contains "\.\."/],
    ['an absolute name', [file('/etc/evil')], [], /^\/etc\/evil: absolute path$/],
    ['an absolute link', [link('l', '/etc')], [], /^l: symlink to \/etc is absolute/],
    ['a link that climbs out', [link('l', '../../etc')], [], /^l: symlink to \.\.\/\.\.\/etc leads outside/],
    [
      'a write through a link of the archive',
      [link('l', 'sub'), dir('sub'), file('l/x')],
      ['directory sub', 'symlink l -> sub'],
      /^l\/x: l is a symlink in the archive; refusing to write through it$/,
    ],
    [
      'a chain of links that each look inside (b -> .., c -> b/..)',
      [link('a/b', '..'), link('c', 'a/b/..')],
      ['symlink a/b -> ..'],
      /^c: symlink to a\/b\/\.\. leads outside the destination/,
    ],
    [
      'the same chain in the other order',
      [link('c', 'a/b/..'), link('a/b', '..')],
      ['symlink a/b -> ..'],
      /^c: symlink to a\/b\/\.\. leads outside/,
    ],
    [
      'a link under a link that comes later',
      [link('a/b', 'x'), link('a', '.')],
      ['symlink a -> .'],
      /^a\/b: a is a symlink in the archive/,
    ],
    [
      'a link replacing a directory the archive made',
      [file('d/f'), link('d', '.')],
      ['file d/f = x'],
      /^d: would replace an entry this archive already copied$/,
    ],
    [
      'a link through a link to an absolute path',
      [link('a', '/'), link('b', 'a/etc')],
      [],
      /^b: symlink to a\/etc leads outside the destination \(through a\)$/,
    ],
    ['a loop of links', [link('a', 'b'), link('b', 'a')], [], /is a loop of links/],
    [
      'a hard link to a file not in the archive',
      [hard('h', 'etc/passwd')],
      [],
      /^h: hard link to etc\/passwd/,
    ],
    ['a hard link that climbs out', [hard('h', '../x')], [], /^h: hard link to \.\.\/x/],
  ];
  it.each(refused)('refuses %s, reports it and copies the rest', async (_name, entries, passed, why) => {
    const { out, tally } = await filter([...entries, file('ok', 'fine')]);
    expect(out).toEqual([
      ...passed.filter((p) => !p.startsWith('symlink')),
      'file ok = fine',
      ...passed.filter((p) => p.startsWith('symlink')),
    ]);
    expect(tally.skipped.length).toBeGreaterThan(0);
    expect(tally.skipped.some((s) => why.test(s))).toBe(true);
  });

  it('skips devices and FIFOs', async () => {
    const tar = await pack([file('ok')]);
    // A FIFO header: the ustar typeflag 6, checksum recomputed.
    const fifo = Buffer.from(tar.subarray(0, 512));
    fifo.write('fifo\0\0\0\0', 0, 'latin1');
    fifo.write('6', 156, 'latin1');
    fifo.write('00000000000\0', 124, 'latin1');
    fifo.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of fifo) sum += b;
    fifo.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const tally = emptyTally();
    const names: string[] = [];
    const items = readTar(from([Buffer.concat([fifo, tar])]));
    for await (const e of safeStreamEntries(items, { uid: 0, gid: 0 }, tally)) {
      for await (const _ of e.body ?? []) {
        // drained
      }
      names.push(e.name);
    }
    expect(names).toEqual(['ok']);
    expect(tally.skipped).toEqual(['fifo: not a file, directory or link (devices and FIFOs are not copied)']);
  });

  it('names stdin in the error for a stream that is not a tar', async () => {
    const items = readTar(from([Buffer.alloc(512, 'a')]), {
      origin: 'the tar stream on stdin',
      kind: 'usage',
    });
    await expect(safeStreamEntries(items, { uid: 0, gid: 0 }, emptyTally()).next()).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/^the tar stream on stdin is not a valid tar \(/),
    });
  });
});

describe('linkLeavesDestination', () => {
  const cases: [string, Record<string, string>, string | undefined][] = [
    ['d/l', { 'd/l': '../x' }, undefined],
    ['d/l', { 'd/l': '../../x' }, 'leads outside the destination'],
    ['l', { l: 'a/../b' }, undefined],
    ['l', { l: 'a/b/../..' }, undefined],
    ['l', { l: 'a/b/../../..' }, 'leads outside the destination'],
    ['l', { l: 'a/..', a: 'b/c' }, undefined],
    ['l', { l: 'a/../..', a: 'b/c' }, undefined],
    ['l', { l: 'a/../../..', a: 'b/c' }, 'leads outside the destination'],
  ];
  it.each(cases)('%s in %j', (name, links, why) => {
    expect(linkLeavesDestination(name, new Map(Object.entries(links)))).toBe(why);
  });
});

describe('streamFromAgent', () => {
  it('writes the archive out unchanged, end blocks included, and counts it', async () => {
    const tar = Buffer.concat([
      await pack([dir('x'), file('x/a', 'abc'), link('x/l', 'a'), file('x/b', 'de')]),
      Buffer.alloc(4096), // a record's padding, as tar(1) writes it
    ]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < tar.length; i += 700) pieces.push(tar.subarray(i, i + 700));
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(c));
    const tally = await streamFromAgent(Readable.from(pieces), out);
    expect(Buffer.concat(got).equals(tar)).toBe(true);
    expect(tally).toEqual({ files: 2, directories: 1, links: 1, bytes: 5, skipped: [] });
  });
});
