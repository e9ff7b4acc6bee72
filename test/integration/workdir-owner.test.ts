/**
 * The agent's working directory follows the agent's uid: when an image or `user` change makes the agent
 * run as another uid, its data (every file, at any depth) is re-owned to the new uid, nothing is lost,
 * nothing stays owned by the old uid, symlinks are not followed, and the new agent can write /mnt.
 * Ownership is read on the host (lstat), writes are tried inside the container with docker exec.
 */
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/ops/reconcile.js';
import { docker, dockerTry, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProjects } from '../helpers/project.js';

/** An image of our own (never the shared test image's tag): the test image running as uid 2000. */
const UID2000_IMAGE = 'agentctl-i12-uid2000:latest';

/** Every path under `dir` (itself included) with its uid:gid, without following symlinks. */
function owners(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    out[rel || '.'] = `${st.uid}:${st.gid}`;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e), path.join(rel, e));
  };
  walk(dir, '');
  return out;
}

async function apply(p: TestProject) {
  const { plan, report } = await reconcile(await p.load());
  expect(report.results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
  return plan.actions.map((a) => `${a.kind} ${a.agentId}`);
}

/** Data written by the agent itself, as its uid: a file, a nested directory, a file in it. */
function writeAgentData(name: string): void {
  docker(
    'exec',
    name,
    'sh',
    '-c',
    'echo one > /mnt/a.txt && mkdir -p /mnt/sub/deep && echo two > /mnt/sub/deep/b.txt && chmod 700 /mnt/sub',
  );
}

function canWrite(name: string, tag: string): void {
  docker(
    'exec',
    name,
    'sh',
    '-c',
    `echo ${tag} >> /mnt/a.txt && touch /mnt/sub/deep/${tag} && mkdir /mnt/${tag}`,
  );
}

describe('working directory ownership follows the agent (real engine)', () => {
  const project = testProjects();
  afterAll(() => {
    dockerTry('rmi', UID2000_IMAGE);
  });

  it('re-owns the whole tree when `user` changes, keeps every byte, and the agent can write', async () => {
    const p = project('own-user');
    p.write('agents:\n  a: {}', '  network: none');
    await apply(p);
    const name = `${p.prefix}a`;
    writeAgentData(name);
    // A symlink the agent made, pointing out of /mnt: re-owning must not follow it.
    const outside = mkdtempSync(path.join(os.tmpdir(), 'agentctl-i12-outside-'));
    try {
      writeFileSync(path.join(outside, 'host.txt'), 'host');
      symlinkSync(path.join(outside, 'host.txt'), path.join(p.workDir('a'), 'link'));
      expect(owners(p.workDir('a'))['sub/deep/b.txt']).toBe('1000:1000');

      p.write('agents:\n  a: { user: "1234:1234" }', '  network: none');
      expect(await apply(p)).toEqual(['recreate a']);

      const after = owners(p.workDir('a'));
      expect(Object.keys(after).sort()).toEqual(['.', 'a.txt', 'link', 'sub', 'sub/deep', 'sub/deep/b.txt']);
      expect(new Set(Object.values(after))).toEqual(new Set(['1234:1234'])); // nothing left to uid 1000
      expect(lstatSync(path.join(outside, 'host.txt')).uid).toBe(0); // the link's target untouched
      expect(readFileSync(path.join(p.workDir('a'), 'sub/deep/b.txt'), 'utf8')).toBe('two\n');
      expect(lstatSync(path.join(p.workDir('a'), 'sub')).mode & 0o777).toBe(0o700); // modes kept
      expect(docker('exec', name, 'id', '-u')).toBe('1234');
      canWrite(name, 'w1');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('re-owns the tree when a new image runs as another uid, and back to the image user', async () => {
    execFileSync('docker', ['build', '-q', '-t', UID2000_IMAGE, '-'], {
      input: `FROM ${TEST_IMAGE}\nUSER 2000:2000\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    const p = project('own-image');
    p.write('agents:\n  a: {}', '  network: none');
    await apply(p);
    const name = `${p.prefix}a`;
    writeAgentData(name);

    p.write(`agents:\n  a: { image: "${UID2000_IMAGE}" }`, '  network: none');
    expect(await apply(p)).toEqual(['recreate a']);
    expect(new Set(Object.values(owners(p.workDir('a'))))).toEqual(new Set(['2000:2000']));
    expect(docker('exec', name, 'id', '-u')).toBe('2000');
    canWrite(name, 'w2000');

    p.write('agents:\n  a: { user: root }', '  network: none');
    expect(await apply(p)).toEqual(['recreate a']);
    expect(new Set(Object.values(owners(p.workDir('a'))))).toEqual(new Set(['0:0']));

    p.write(`agents:\n  a: { image: "${TEST_IMAGE}" }`, '  network: none');
    expect(await apply(p)).toEqual(['recreate a']);
    expect(new Set(Object.values(owners(p.workDir('a'))))).toEqual(new Set(['1000:1000']));
    expect(readFileSync(path.join(p.workDir('a'), 'a.txt'), 'utf8')).toBe('one\nw2000\n');
    canWrite(name, 'w1000');
  });
});
