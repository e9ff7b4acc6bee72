/**
 * Extraction onto the host from hostile archives: whatever the tar says, nothing is written outside the
 * destination directory. Archives are built with the tar writer, or by hand where it would refuse.
 */
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { packTar, tarHeader, type TarWriteEntry } from '../../src/docker/tar-writer.js';
import { extractToHost, linkEscapes, targetOf } from '../../src/ops/host-extract.js';

const base = { mode: 0o644, mtime: 1_700_000_000, uid: 0, gid: 0 };
const dir = (name: string): TarWriteEntry => ({ ...base, mode: 0o755, name, type: 'directory' });
const file = (name: string, text: string): TarWriteEntry => ({
  ...base,
  name,
  type: 'file',
  size: Buffer.byteLength(text),
  body: (async function* () {
    yield Buffer.from(text);
  })(),
});
const link = (name: string, linkname: string): TarWriteEntry => ({
  ...base,
  name,
  type: 'symlink',
  linkname,
});

async function* archive(entries: TarWriteEntry[], raw: Buffer[] = []): AsyncGenerator<Buffer> {
  for (const r of raw) yield r;
  async function* list() {
    for (const e of entries) yield e;
  }
  yield* packTar(list());
}

/** A header with any name and type, as a hostile writer would make it (no checks). */
function rawEntry(name: string, typeflag: string, linkname = '', content = ''): Buffer[] {
  const h = tarHeader({ ...base, name: 'x', type: 'file', size: Buffer.byteLength(content) });
  h.fill(0, 0, 100);
  h.write(name, 0, 100);
  h[156] = typeflag.charCodeAt(0);
  h.fill(0, 157, 257);
  h.write(linkname, 157, 100);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  data.write(content);
  return [h, data];
}

describe('extractToHost', () => {
  const temps: string[] = [];
  afterEach(() => {
    for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
  });
  /** `dest` is where we extract; `outside` is a sibling that must never change. */
  function setup() {
    const top = mkdtempSync(path.join(os.tmpdir(), 'agentctl-extract-'));
    temps.push(top);
    const dest = path.join(top, 'dest');
    const outside = path.join(top, 'outside');
    mkdirSync(dest);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'keep me');
    return { top, dest, outside };
  }
  const opts = (dest: string) => ({ dir: dest, rootName: 'data', targetName: 'data' });

  it('extracts files, directories and inside links, and renames the root', async () => {
    const { dest } = setup();
    const tally = await extractToHost(
      archive([dir('data'), dir('data/sub'), file('data/sub/a.txt', 'A'), link('data/l', 'sub/a.txt')]),
      { dir: dest, rootName: 'data', targetName: 'copy' },
    );
    expect(tally).toMatchObject({ files: 1, directories: 2, links: 1, bytes: 1, refused: [] });
    expect(readFileSync(path.join(dest, 'copy/sub/a.txt'), 'utf8')).toBe('A');
    expect(readFileSync(path.join(dest, 'copy/l'), 'utf8')).toBe('A');
  });

  it('refuses absolute names, ".." and names outside the copied path', async () => {
    const { dest, outside, top } = setup();
    const tally = await extractToHost(
      archive(
        [],
        [
          ...rawEntry(`${outside}/abs`, '0', '', 'x'),
          ...rawEntry('data/../../outside/dots', '0', '', 'x'),
          ...rawEntry('other/file', '0', '', 'x'),
        ],
      ),
      opts(dest),
    );
    expect(tally.refused).toEqual([
      `${outside}/abs: absolute path`,
      'data/../../outside/dots: path contains ".."',
      'other/file: not under the copied path data',
    ]);
    expect(existsSync(path.join(outside, 'abs'))).toBe(false);
    expect(existsSync(path.join(outside, 'dots'))).toBe(false);
    expect(existsSync(path.join(top, 'other'))).toBe(false);
  });

  it('refuses symlinks that point out, and never writes through one the archive made', async () => {
    const { dest, outside } = setup();
    const tally = await extractToHost(
      archive([
        dir('data'),
        link('data/abs', path.join(outside, 'secret')),
        link('data/up', '../../outside'),
        file('data/up/secret', 'overwritten'),
      ]),
      opts(dest),
    );
    expect(tally.links).toBe(0);
    expect(tally.refused).toEqual([
      expect.stringMatching(/^data\/abs: symlink to .* is absolute/),
      'data/up: symlink to ../../outside leads outside the destination',
      // The link was refused, so `up` is a plain directory made for the file: the write stays inside.
    ]);
    expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
    expect(readFileSync(path.join(dest, 'data/up/secret'), 'utf8')).toBe('overwritten');
  });

  it('removes a link that leads out only through another link (a chain)', async () => {
    const { dest } = setup();
    // `sub/up` -> `..` is data itself (inside); `esc` -> `sub/up/../..` reads as data/ but is dest/..
    const tally = await extractToHost(
      archive([dir('data'), dir('data/sub'), link('data/sub/up', '..'), link('data/esc', 'sub/up/../..')]),
      opts(dest),
    );
    expect(tally.refused).toEqual(['data/esc: symlink leads outside the destination (removed)']);
    expect(existsSync(path.join(dest, 'data/esc'))).toBe(false);
    expect(readlinkSync(path.join(dest, 'data/sub/up'))).toBe('..');
  });

  it('refuses to write through a symlink already in the destination', async () => {
    const { dest, outside } = setup();
    symlinkSync(outside, path.join(dest, 'data'));
    symlinkSync(path.join(outside, 'secret'), path.join(dest, 'file-link'));
    const tally = await extractToHost(archive([dir('data'), file('data/secret', 'overwritten')]), opts(dest));
    expect(tally.files).toBe(0);
    expect(tally.refused).toEqual([
      'data/: data is an existing symlink; refusing to write through it',
      'data/secret: data is a symlink; refusing to write through it',
    ]);
    const single = await extractToHost(archive([file('f', 'overwritten')]), {
      dir: dest,
      rootName: 'f',
      targetName: 'file-link',
    });
    expect(single.refused).toEqual(['f: file-link is an existing symlink; refusing to write through it']);
    expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
  });

  it('replaces an existing file rather than writing into it (it may be a hard link to one outside)', async () => {
    const { dest, outside } = setup();
    mkdirSync(path.join(dest, 'data'));
    linkSync(path.join(outside, 'secret'), path.join(dest, 'data/secret'));
    const tally = await extractToHost(archive([dir('data'), file('data/secret', 'new')]), opts(dest));
    expect(tally.refused).toEqual([]);
    expect(readFileSync(path.join(dest, 'data/secret'), 'utf8')).toBe('new');
    expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
  });

  it('makes hard links only to files it copied, and refuses devices', async () => {
    const { dest, outside } = setup();
    const tally = await extractToHost(
      archive(
        [],
        [
          ...rawEntry('data/', '5'),
          ...rawEntry('data/a', '0', '', 'A'),
          ...rawEntry('data/b', '1', 'data/a'),
          ...rawEntry('data/c', '1', '../outside/secret'),
          ...rawEntry('data/d', '1', `${outside}/secret`),
          ...rawEntry('data/e', '3'),
        ],
      ),
      opts(dest),
    );
    expect(readFileSync(path.join(dest, 'data/b'), 'utf8')).toBe('A');
    expect(tally.refused).toEqual([
      'data/c: hard link to ../outside/secret, which is not a file copied here',
      expect.stringMatching(/^data\/d: hard link to .*secret, which is not a file copied here$/),
      'data/e: not a file, directory or link (devices and FIFOs are not copied)',
    ]);
    expect(lstatSync(path.join(outside, 'secret')).nlink).toBe(1);
  });

  it('refuses a hard link whose target is reached through symlinks that lead out', async () => {
    const { top, dest } = setup();
    // `out/a` -> `..` is dest (inside); `out/b` -> `a/..` reads as out/ but is dest/.. for the kernel,
    // so `out/b/secret.txt` is <dest>/../secret.txt: a file this extraction never wrote.
    const secret = path.join(top, 'secret.txt');
    writeFileSync(secret, 'host secret');
    const tally = await extractToHost(
      archive(
        [],
        [
          ...rawEntry('out/', '5'),
          ...rawEntry('out/a', '2', '..'),
          ...rawEntry('out/b', '2', 'a/..'),
          ...rawEntry('out/h', '1', 'out/b/secret.txt'),
        ],
      ),
      { dir: dest, rootName: 'out', targetName: 'out' },
    );
    expect(tally.refused).toContain('out/h: hard link to out/b/secret.txt, which is not a file copied here');
    expect(tally.files).toBe(0);
    // Nothing was linked to the host file, and nothing under dest reaches it.
    expect(lstatSync(secret).nlink).toBe(1);
    expect(existsSync(path.join(dest, 'out/h'))).toBe(false);
    expect(readFileSync(secret, 'utf8')).toBe('host secret');
    for (const p of walk(dest)) {
      const st = lstatSync(p);
      if (st.isFile()) expect(readFileSync(p, 'utf8')).not.toBe('host secret');
      if (st.isSymbolicLink()) {
        const real = realpathSync(p);
        expect(real === dest || real.startsWith(dest + path.sep)).toBe(true);
      }
    }
    expect(existsSync(path.join(dest, 'out/b/secret.txt'))).toBe(false);
  });

  it('makes a hard link only to the file this extraction wrote at that path, not what replaced it', async () => {
    const { dest, outside } = setup();
    // `data/d1/d2/f` is written, then replaced by a symlink that is inside from where it is; a hard
    // link to it would be the symlink itself at another depth, where the same text leads out.
    const tally = await extractToHost(
      archive(
        [],
        [
          ...rawEntry('data/', '5'),
          ...rawEntry('data/d1/d2/f', '0', '', 'F'),
          ...rawEntry('data/d1/d2/f', '2', '../../../outside/secret'),
          ...rawEntry('data/h', '1', 'data/d1/d2/f'),
        ],
      ),
      opts(dest),
    );
    expect(tally.refused).toContain('data/h: hard link to data/d1/d2/f, which is not a file copied here');
    expect(existsSync(path.join(dest, 'data/h'))).toBe(false);
    expect(lstatSync(path.join(outside, 'secret')).nlink).toBe(1);
  });

  it('stops reading the archive when writing fails, so the stream is not left open', async () => {
    const { dest } = setup();
    const tar = Readable.from(
      archive([dir('data'), file(`data/${'n'.repeat(300)}`, 'x'), file('data/after', 'y')]),
    );
    // A name longer than the file system allows: open() fails (ENAMETOOLONG), even for root.
    await expect(extractToHost(tar, opts(dest))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(tar.destroyed).toBe(true);
    expect(existsSync(path.join(dest, 'data/after'))).toBe(false);
  });
});

/** Every path under `root`, without following symlinks. */
function walk(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = path.join(root, name);
    out.push(p);
    if (lstatSync(p).isDirectory()) out.push(...walk(p));
  }
  return out;
}

describe('targetOf and linkEscapes', () => {
  const o = { dir: '/d', rootName: 'r', targetName: 't' };
  it.each([
    ['r', '/d/t'],
    ['r/', '/d/t'],
    ['./r/a/./b', '/d/t/a/b'],
  ])('maps %s to %s', (name, want) => expect(targetOf(name, o)).toBe(want));
  it.each(['/etc/passwd', 'r/../x', '..', 'x/y', 'r/a\\..\\b'])('refuses %s', (name) =>
    expect(targetOf(name, o)).toHaveProperty('refused'),
  );
  it('judges link text against the destination', () => {
    expect(linkEscapes('/d', '/d/t/l', 'a')).toBeUndefined();
    expect(linkEscapes('/d', '/d/t/l', '../x')).toBeUndefined();
    expect(linkEscapes('/d', '/d/t/l', '../../x')).toMatch(/outside/);
    expect(linkEscapes('/d', '/d/t/l', '/d/t/a')).toMatch(/absolute/);
    expect(linkEscapes('/d', '/d/t/l', '')).toMatch(/empty/);
  });
});
