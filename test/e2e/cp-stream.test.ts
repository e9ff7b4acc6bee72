/**
 * cp with `-` (built binary, real engine): an agent's path as a tar stream on stdout, read back by
 * tar(1); a tar(1) stream on stdin extracted into the agent, read back with docker exec and on disk; a
 * hostile stream (`..`, an absolute name, links out, a write through a link) skipped and reported, with
 * nothing written outside the destination.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTar, type TarWriteEntry } from '../../src/docker/tar-writer.js';
import { agentctlAsync, CLI, runAsyncRaw } from '../helpers/cli.js';
import { docker, dockerTryAsync } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function pack(entries: TarWriteEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of packTar(from(entries))) parts.push(p);
  return Buffer.concat(parts);
}

describe('cp - (tar streams, real engine)', () => {
  let p: TestProject;
  const sh = (script: string, input?: Buffer) =>
    runAsyncRaw('sh', ['-c', script], { cwd: p.dir, input, env: { NO_COLOR: '1', CLI }, timeout: 120_000 });
  const inAgent = (...cmd: string[]) => docker('exec', `${p.prefix}a`, ...cmd);

  beforeAll(async () => {
    p = testProject('i8cps');
    p.write('agents:\n  a: {}', '  network: none');
    expect((await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: p.dir })).status).toBe(0);
  });
  afterAll(() => p?.cleanup());

  it('cp ID:/mnt/x - writes only the tar to stdout: tar -t lists it, tar -x gets the bytes', async () => {
    inAgent('sh', '-c', 'mkdir -p /mnt/x/sub && echo one > /mnt/x/a.txt && echo two > /mnt/x/sub/b.txt');
    inAgent('ln', '-s', 'a.txt', '/mnt/x/link');
    const listed = await sh('node "$CLI" cp a:/mnt/x - | tar -tf -');
    expect(listed.status).toBe(0);
    expect(listed.stdout.toString().split('\n').filter(Boolean).sort()).toEqual([
      'x/',
      'x/a.txt',
      'x/link',
      'x/sub/',
      'x/sub/b.txt',
    ]);
    // The summary goes to stderr; stdout is the engine's archive, whole (tar -x reads it to its end).
    const raw = await sh('node "$CLI" cp a:x -');
    expect(raw.status).toBe(0);
    expect(raw.stderr.toString()).toBe(
      'copied 2 file(s), 2 directories, 1 link(s), 8B: a:/mnt/x -> stdout (tar)\n',
    );
    mkdirSync(path.join(p.dir, 'out'));
    const unpacked = await runAsyncRaw('tar', ['-xf', '-', '-C', path.join(p.dir, 'out')], {
      input: raw.stdout,
    });
    expect(unpacked.status).toBe(0);
    expect(readFileSync(path.join(p.dir, 'out', 'x', 'sub', 'b.txt'), 'utf8')).toBe('two\n');
    expect(raw.stdout.length % 512).toBe(0);

    // -o json cannot share stdout with the tar; a missing path is an error, with nothing on stdout.
    const json = await sh('node "$CLI" cp a:/mnt/x - -o json');
    expect([json.status, json.stderr.toString()]).toEqual([
      1,
      expect.stringContaining('-o json cannot go there'),
    ]);
    const missing = await sh('node "$CLI" cp a:/mnt/nope -');
    expect(missing.status).toBe(1);
    expect(missing.stdout.length).toBe(0);
    expect(missing.stderr.toString()).toMatch(/no such file or directory in agent a: \/mnt\/nope/);
  });

  it('tar -c ... | cp - ID:/mnt/y extracts into the directory, owned by the agent', async () => {
    const src = path.join(p.dir, 'src');
    mkdirSync(path.join(src, 'deep', 'er'), { recursive: true });
    writeFileSync(path.join(src, 'top.txt'), 'top\n');
    writeFileSync(path.join(src, 'deep', 'er', 'file.bin'), Buffer.alloc(70_000, 7));
    symlinkSync('deep/er/file.bin', path.join(src, 'inside-link'));
    inAgent('mkdir', '/mnt/y');
    const r = await sh('tar -c -C src . | node "$CLI" cp - a:/mnt/y');
    expect([r.status, r.stderr.toString()]).toEqual([0, '']);
    expect(r.stdout.toString()).toBe(
      'copied 2 file(s), 2 directories, 1 link(s), 68KiB: stdin (tar) -> a:/mnt/y\n',
    );
    expect(inAgent('cat', '/mnt/y/top.txt')).toBe('top');
    expect(inAgent('sh', '-c', 'wc -c < /mnt/y/inside-link').trim()).toBe('70000');
    expect(inAgent('stat', '-c', '%u', '/mnt/y/deep/er/file.bin').trim()).toBe(inAgent('id', '-u').trim());
    // On the host: the agent's working directory holds exactly what the tar held.
    const onDisk = path.join(p.workDir('a'), 'y');
    expect(readFileSync(path.join(onDisk, 'deep', 'er', 'file.bin')).equals(Buffer.alloc(70_000, 7))).toBe(
      true,
    );
    expect(readdirSync(onDisk).sort()).toEqual(['deep', 'inside-link', 'top.txt']);

    // The destination must be an existing directory, as docker cp has it.
    const notDir = await sh('tar -c -C src top.txt | node "$CLI" cp - a:/mnt/y/top.txt');
    expect([notDir.status, notDir.stderr.toString()]).toEqual([
      1,
      expect.stringMatching(/is not a directory/),
    ]);
    const junk = await sh('node "$CLI" cp - a:/mnt/y', Buffer.alloc(1024, 'x'));
    expect([junk.status, junk.stderr.toString()]).toEqual([
      1,
      expect.stringMatching(/^agentctl: the tar stream on stdin is not a valid tar/),
    ]);
  });

  it('a hostile stream: ../, absolute names and links out are skipped and reported, nothing lands outside', async () => {
    const base = { mode: 0o644, mtime: 1_700_000_000, uid: 0, gid: 0 };
    const file = (name: string, text: string): TarWriteEntry => ({
      ...base,
      name,
      type: 'file',
      size: text.length,
      body: from([Buffer.from(text)]),
    });
    const link = (name: string, linkname: string): TarWriteEntry => ({
      ...base,
      name,
      type: 'symlink',
      linkname,
    });
    const tar = await pack([
      file('../escape', 'up'),
      file('../../../../../../../../tmp/i8-escape', 'far up'),
      file('/abs-escape', 'absolute'),
      link('out', '../../..'),
      file('out/through-link', 'via a link'),
      link('a/b', '..'),
      link('chain', 'a/b/..'),
      link('etc', '/etc'),
      file('fine.txt', 'fine'),
    ]);
    inAgent('mkdir', '/mnt/z');
    const r = await sh('node "$CLI" cp - a:/mnt/z', tar);
    expect(r.status).toBe(1);
    const err = r.stderr.toString();
    expect(err).toMatch(/not copied: \.\.\/escape: path contains "\.\."/);
    expect(err).toMatch(/not copied: \.\.\/\.\.\/.*tmp\/i8-escape: path contains "\.\."/);
    expect(err).toMatch(/not copied: \/abs-escape: absolute path/);
    expect(err).toMatch(/not copied: out\/through-link: out is a symlink in the archive/);
    expect(err).toMatch(/not copied: out: symlink to \.\.\/\.\.\/\.\. leads outside the destination/);
    expect(err).toMatch(/not copied: chain: symlink to a\/b\/\.\. leads outside the destination/);
    expect(err).toMatch(/not copied: etc: symlink to \/etc is absolute/);
    expect(err).toMatch(/7 entries were not copied\n$/);
    expect(err).not.toMatch(/HTTP code|invalid symlink/);
    expect(r.stdout.toString()).toMatch(
      /^copied 1 file\(s\), 1 link\(s\), 4B, 7 skipped: stdin \(tar\) -> a:\/mnt\/z\n$/,
    );
    expect(inAgent('cat', '/mnt/z/fine.txt')).toBe('fine');
    expect(inAgent('ls', '-a', '/mnt/z').split('\n').filter(Boolean).sort()).toEqual([
      '.',
      '..',
      'a',
      'fine.txt',
    ]);
    expect(inAgent('readlink', '/mnt/z/a/b').trim()).toBe('..');
    // Nowhere outside /mnt/z, in the agent or on the host.
    for (const p_ of ['/mnt/escape', '/escape', '/abs-escape', '/tmp/i8-escape', '/mnt/through-link']) {
      expect((await dockerTryAsync('exec', `${p.prefix}a`, 'test', '-e', p_)).status).toBe(1);
    }
    expect(existsSync(path.join(p.workDir('a'), 'escape'))).toBe(false);
    expect(existsSync(path.join(path.dirname(p.workDir('a')), 'escape'))).toBe(false);
    expect(existsSync('/tmp/i8-escape')).toBe(false);
  });
});
