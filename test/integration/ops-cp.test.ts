/**
 * cp against the real engine, both ways: binary content byte for byte, directories, ownership, and the
 * hostile cases (symlinks out of the destination, `..`, read-only and tmpfs paths). What the agent sees
 * is read with docker exec; what the host has, with fs.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import type { DockerPort } from '../../src/docker/port.js';
import { copy } from '../../src/ops/cp.js';
import { reconcile } from '../../src/ops/reconcile.js';
import { docker } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('cp (real engine)', () => {
  let p: TestProject;
  let name: string;
  let host: string;
  const opts = () => ({ project: p.project, cwd: host });
  const inAgent = (script: string) => docker('exec', name, 'sh', '-c', script);

  beforeAll(async () => {
    p = testProject('cp');
    p.write('agents:\n  box: {}', '  network: none');
    const { report } = await reconcile(await p.load());
    expect(report.ok).toBe(true);
    name = `${p.prefix}box`;
    host = path.join(p.dir, 'host');
    mkdirSync(host);
  });
  afterAll(() => p.cleanup());

  it('copies a binary file into the agent and back, byte for byte, owned by the agent', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(path.join(host, 'blob.bin'), data);
    const up = await copy('blob.bin', 'box:/mnt/', opts());
    expect(up).toMatchObject({ direction: 'to-agent', files: 1, bytes: data.length, skipped: [] });
    expect(up.destination).toBe('box:/mnt/blob.bin');
    expect(inAgent('sha256sum /mnt/blob.bin').split(' ')[0]).toBe(sha(data));
    expect(inAgent('stat -c %u:%g /mnt/blob.bin')).toBe('1000:1000'); // the agent can change it

    const down = await copy('box:blob.bin', 'back.bin', opts()); // relative: under /mnt
    expect(down).toMatchObject({ direction: 'from-agent', files: 1, bytes: data.length, skipped: [] });
    expect(readFileSync(path.join(host, 'back.bin')).equals(data)).toBe(true);
  });

  it('copies directory trees both ways, keeping links inside them as links', async () => {
    const tree = path.join(host, 'tree');
    mkdirSync(path.join(tree, 'deep', `${'n'.repeat(120)}`), { recursive: true });
    writeFileSync(path.join(tree, 'a.txt'), 'A');
    writeFileSync(path.join(tree, 'deep', `${'n'.repeat(120)}`, 'long.txt'), 'L');
    symlinkSync('a.txt', path.join(tree, 'to-a'));
    const up = await copy('tree', 'box:/mnt/tree-in', opts());
    expect(up).toMatchObject({ files: 2, directories: 3, links: 1, skipped: [] });
    expect(inAgent(`cat /mnt/tree-in/a.txt /mnt/tree-in/deep/${'n'.repeat(120)}/long.txt`)).toBe('AL');
    expect(inAgent('readlink /mnt/tree-in/to-a')).toBe('a.txt');

    mkdirSync(path.join(host, 'into'));
    const down = await copy('box:/mnt/tree-in', 'into', opts()); // an existing directory: copied into it
    expect(down).toMatchObject({ files: 2, directories: 3, links: 1, skipped: [] });
    expect(down.destination).toBe(path.join(host, 'into', 'tree-in'));
    expect(readFileSync(path.join(host, 'into/tree-in/deep', 'n'.repeat(120), 'long.txt'), 'utf8')).toBe('L');
    expect(readlinkSync(path.join(host, 'into/tree-in/to-a'))).toBe('a.txt');
  });

  it('never writes through a symlink the agent made to point outside the destination', async () => {
    const secret = path.join(p.dir, 'secret');
    writeFileSync(secret, 'keep me');
    inAgent(
      `mkdir -p /mnt/evil && ln -sf ${secret} /mnt/evil/abs && ln -sf ../../.. /mnt/evil/up && echo x > /mnt/evil/ok`,
    );
    const r = await copy('box:/mnt/evil', 'evil-out', opts());
    expect(r.files).toBe(1);
    expect(r.skipped).toEqual([
      expect.stringMatching(/^evil\/abs: symlink to .* is absolute/),
      'evil/up: symlink to ../../.. leads outside the destination',
    ]);
    expect(existsSync(path.join(host, 'evil-out/abs'))).toBe(false);
    expect(existsSync(path.join(host, 'evil-out/up'))).toBe(false);
    expect(readFileSync(path.join(host, 'evil-out/ok'), 'utf8')).toBe('x\n');
    expect(readFileSync(secret, 'utf8')).toBe('keep me');

    // Copying the link itself: a link to outside is refused, and nothing is made in its place.
    const single = await copy('box:/mnt/evil/abs', 'single', opts());
    expect(single.skipped).toHaveLength(1);
    expect(existsSync(path.join(host, 'single'))).toBe(false);
  });

  it('refuses a host destination that is a symlink, and writes nothing through it', async () => {
    const target = path.join(p.dir, 'target.txt');
    writeFileSync(target, 'original');
    symlinkSync(target, path.join(host, 'dest-link'));
    inAgent('echo replaced > /mnt/src.txt');
    await expect(copy('box:/mnt/src.txt', 'dest-link', opts())).rejects.toMatchObject({
      kind: 'unsafe',
      message: expect.stringMatching(/is a symlink/),
    });
    expect(readFileSync(target, 'utf8')).toBe('original');
    expect(lstatSync(path.join(host, 'dest-link')).isSymbolicLink()).toBe(true);
  });

  it('refuses a symlink anywhere in the host destination path: dst/link/, dst/link/file, deeper', async () => {
    const outside = path.join(p.dir, 'outside');
    mkdirSync(path.join(outside, 'a', 'b'), { recursive: true });
    mkdirSync(path.join(host, 'dst'));
    symlinkSync(outside, path.join(host, 'dst', 'link'));
    inAgent('echo planted > /mnt/src.txt');
    const absolute = path.join(host, 'dst', 'link', 'file');
    for (const dest of ['dst/link/', 'dst/link/file', 'dst/link/a/b/file', 'dst/link/a/', absolute]) {
      await expect(copy('box:/mnt/src.txt', dest, opts()), dest).rejects.toMatchObject({
        kind: 'unsafe',
        message: expect.stringMatching(/dst\/link is a symlink \(to .*outside\)/),
      });
    }
    expect(readdirSync(outside).sort()).toEqual(['a']);
    expect(readdirSync(path.join(outside, 'a', 'b'))).toEqual([]);
    // The real path is fine.
    await copy('box:/mnt/src.txt', path.join(outside, 'a', 'b', 'file'), opts());
    expect(readFileSync(path.join(outside, 'a', 'b', 'file'), 'utf8')).toBe('planted\n');
  });

  it('stays inside the container for a symlink in the agent that points "outside" when copying in', async () => {
    inAgent('ln -sf /etc /mnt/etc-link');
    writeFileSync(path.join(host, 'payload'), 'p');
    // Resolved by the engine inside the container's root: its /etc, which is read-only.
    await expect(copy('payload', 'box:/mnt/etc-link/', opts())).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/read-only/),
    });
    expect(existsSync('/etc/payload')).toBe(false);
  });

  it('refuses ".." in agent paths, read-only and tmpfs destinations, with clear errors', async () => {
    writeFileSync(path.join(host, 'small'), 's');
    await expect(copy('box:/mnt/../etc/passwd', 'pw', opts())).rejects.toMatchObject({ kind: 'usage' });
    await expect(copy('small', 'box:/mnt/../etc/', opts())).rejects.toMatchObject({ kind: 'usage' });
    await expect(copy('small', 'box:/etc/', opts())).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/read-only.*copy into \/mnt/),
    });
    await expect(copy('small', 'box:/tmp/agent/small', opts())).rejects.toMatchObject({ kind: 'usage' });
    inAgent('echo t > /tmp/agent/t');
    await expect(copy('box:/tmp/agent/t', 't', opts())).rejects.toMatchObject({
      kind: 'not-found',
      message: expect.stringMatching(/\/tmp\/agent is a tmpfs mount/),
    });
    await expect(copy('box:/mnt/nope', 'x', opts())).rejects.toMatchObject({ kind: 'not-found' });
    await expect(copy('missing-file', 'box:/mnt/', opts())).rejects.toMatchObject({ kind: 'not-found' });
    await expect(copy('small', 'box:/mnt/no/such/dir/', opts())).rejects.toMatchObject({ kind: 'not-found' });
    await expect(copy('small', 'other', opts())).rejects.toMatchObject({ kind: 'usage' });
    await expect(copy('small', 'nope-agent-zz:/mnt/', opts())).rejects.toMatchObject({ kind: 'not-found' });
    expect(statSync(path.join(host, 'small')).size).toBe(1);
  });

  it("closes the engine's archive stream when writing on the host fails mid-copy", async () => {
    inAgent('head -c 4000000 /dev/urandom > /mnt/big.bin');
    // Watch the archive response the copy gets from the real engine.
    const engine = new DockerEngine();
    const streams: NodeJS.ReadableStream[] = [];
    const port = new Proxy(engine, {
      get(target, key) {
        if (key === 'getArchive') {
          return async (...args: Parameters<DockerPort['getArchive']>) => {
            const r = await target.getArchive(...args);
            if (r) streams.push(r.tar);
            return r;
          };
        }
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    // A host name longer than the file system allows: creating the file fails (ENAMETOOLONG) while
    // megabytes are still to come, as EACCES or ENOSPC would (those do not happen to root).
    await expect(copy('box:/mnt/big.bin', 'n'.repeat(300), { ...opts(), port })).rejects.toMatchObject({
      code: 'ENAMETOOLONG',
    });
    expect(streams).toHaveLength(1);
    expect((streams[0] as Readable).destroyed).toBe(true);
  });

  // Last: a restarted container's tmpfs mounts are no longer writable by the agent (engine 20.10).
  it('works on a stopped agent', async () => {
    inAgent('echo still-here > /mnt/note');
    docker('stop', '-t', '1', name);
    try {
      await copy('box:/mnt/note', 'note', opts());
      expect(readFileSync(path.join(host, 'note'), 'utf8')).toBe('still-here\n');
    } finally {
      docker('start', name);
    }
  });
});
