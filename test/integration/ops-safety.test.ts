/**
 * Data safety of the operations that delete things (down, rm, cleanup) against the real engine: a working
 * directory another container uses is never deleted, whatever it mounts and wherever; removals all settle
 * before down reports; cleanup never removes a container started since it was listed, and never takes an
 * agent's container and data in one run. Faults the engine cannot produce on demand (a failing removal, a
 * start at just the wrong moment) are injected by wrapping the real port.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import type { DockerPort } from '../../src/docker/port.js';
import { AgentctlError } from '../../src/errors.js';
import { cleanup } from '../../src/ops/cleanup.js';
import { down } from '../../src/ops/down.js';
import { removeAgents } from '../../src/ops/lifecycle.js';
import { docker, dockerTry, exists, inspect, TEST_IMAGE } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

describe('operations that delete keep data safe (real engine)', () => {
  const projects: TestProject[] = [];
  const extra: string[] = [];
  afterEach(() => {
    for (const name of extra.splice(0)) dockerTry('rm', '-f', name);
    for (const p of projects.splice(0)) p.cleanup();
  });

  const fleet = (tag: string, agents: string) => appliedProject(projects, tag, agents);

  /** A container that is not agentctl's (or, with labels, another project's) mounting `source`. */
  function mounter(source: string, target: string, labels: Record<string, string> = {}): string {
    const name = `agentctl-test-mounter-${randomBytes(4).toString('hex')}`;
    extra.push(name);
    const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    docker(
      'create',
      '--name',
      name,
      ...labelArgs,
      '--network',
      'none',
      '--mount',
      `type=bind,source=${source},target=${target}`,
      TEST_IMAGE,
    );
    return name;
  }

  const runtimeDir = (p: TestProject) => path.join(p.dir, 'runtime');

  it('down --data keeps a directory another container mounts anywhere, or mounts something inside', async () => {
    const p = await fleet('dsafe', 'agents:\n  a: {}\n  b: {}\n  c: {}');
    for (const id of ['a', 'b', 'c']) writeFileSync(path.join(p.workDir(id), 'precious'), id);
    mkdirSync(path.join(p.workDir('b'), 'sub'));
    // Not at /mnt, and not agentctl's: a plain container mounting a's data at /data.
    const plain = mounter(p.workDir('a'), '/data');
    // Another project's agent whose /mnt is a directory inside b's.
    const other = mounter(path.join(p.workDir('b'), 'sub'), '/mnt', {
      'agentctl.project': `other-${randomBytes(3).toString('hex')}`,
      'agentctl.agent': 'x',
    });

    const r = await down(await p.load(), { removeData: true, stopTimeoutSeconds: 1 });
    expect(r.removed.map((x) => x.agent)).toEqual(['a', 'b', 'c']);
    expect(r.removedData).toEqual([p.workDir('c')]);
    expect(r.keptData).toEqual([
      { path: p.workDir('a'), reason: `still mounted by container ${plain}` },
      { path: p.workDir('b'), reason: `still mounted by container ${other}` },
    ]);
    expect(existsSync(path.join(p.workDir('a'), 'precious'))).toBe(true);
    expect(existsSync(path.join(p.workDir('b'), 'precious'))).toBe(true);
    expect(existsSync(p.workDir('c'))).toBe(false);
  });

  it('a container mounting the whole runtime directory keeps every working directory (rm, down, cleanup)', async () => {
    const p = await fleet('whole', 'agents:\n  a: {}\n  b: {}');
    const backup = mounter(runtimeDir(p), '/backup');

    const [rm] = await removeAgents(['a'], { project: p.project, removeData: true, stopTimeoutSeconds: 1 });
    expect(rm).toMatchObject({
      ok: false,
      error: `container removed, but ${p.workDir('a')} is still mounted by container ${backup}; not deleting it`,
    });
    expect(exists(`${p.prefix}a`)).toBe(false);
    expect(existsSync(p.workDir('a'))).toBe(true);

    const d = await down(await p.load(), { removeData: true, stopTimeoutSeconds: 1 });
    expect(d.removedData).toEqual([]);
    expect(d.keptData.map((k) => k.path)).toEqual([p.workDir('a'), p.workDir('b')]);

    const c = await cleanup({
      project: p.project,
      runtimeDir: runtimeDir(p),
      olderThanMs: 0,
      now: Date.now() + 60_000,
    });
    expect(c.directories).toEqual([]);
    expect([existsSync(p.workDir('a')), existsSync(p.workDir('b'))]).toEqual([true, true]);
  });

  it('down lets every removal settle, then reports all failures at once and deletes no data', async () => {
    const p = await fleet('dfail', 'agents:\n  a: {}\n  b: {}\n  c: {}');
    const id = (agent: string) => inspect(`${p.prefix}${agent}`).Id as string;
    const [a, b, c] = [id('a'), id('b'), id('c')];
    const real = new DockerEngine();
    const port = wrap(real, {
      async removeContainer(cid, opts) {
        if (cid === a) throw new AgentctlError('engine', 'remove failed: boom a');
        if (cid === c) throw new AgentctlError('engine', 'remove failed: boom c');
        await sleep(1500); // still at work when the others have failed
        await real.removeContainer(cid, opts);
      },
    });
    const err = await down(await p.load(), { port, removeData: true, stopTimeoutSeconds: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      kind: 'engine',
      message: `2 of 3 container(s) of project "${p.project}" could not be removed; no working directory was deleted`,
      details: [`  ${p.prefix}a: remove failed: boom a`, `  ${p.prefix}c: remove failed: boom c`],
    });
    // b's removal finished before down returned (and so before it let go of the lock).
    expect(exists(b)).toBe(false);
    for (const agent of ['a', 'b', 'c']) expect(existsSync(p.workDir(agent))).toBe(true);
  });

  it('cleanup leaves alone a container started after it was listed', async () => {
    const p = await fleet('cstart', 'agents:\n  early: { state: stopped }\n  late: { state: stopped }');
    const early = inspect(`${p.prefix}early`).Id as string;
    const late = inspect(`${p.prefix}late`).Id as string;
    const real = new DockerEngine();
    const seen = new Map<string, number>();
    const port = wrap(real, {
      async inspectContainer(cid) {
        const d = await real.inspectContainer(cid);
        const n = (seen.get(cid) ?? 0) + 1;
        seen.set(cid, n);
        // early starts once cleanup has found it old enough; late only after cleanup looked again.
        if ((cid === early && n === 1) || (cid === late && n === 2)) docker('start', cid);
        return d;
      },
    });
    const r = await cleanup({
      port,
      project: p.project,
      runtimeDir: runtimeDir(p),
      olderThanMs: 0,
      now: Date.now() + 60_000,
    });
    expect(r.containers).toEqual([]);
    expect(r.skipped).toEqual([
      `container ${p.prefix}early: running now, no longer stopped`,
      `container ${p.prefix}late: running now, no longer stopped`,
    ]);
    expect([inspect(early).State.Running, inspect(late).State.Running]).toEqual([true, true]);
    expect(r.directories).toEqual([]);
  });

  it('cleanup never removes an agent and its data in one run', async () => {
    const p = await fleet('cboth', 'agents:\n  off: { state: stopped }\n  on: {}');
    writeFileSync(path.join(p.workDir('off'), 'precious'), 'x');
    const opts = {
      project: p.project,
      runtimeDir: runtimeDir(p),
      olderThanMs: 0,
      now: Date.now() + 60_000,
    };

    // The dry run says what the real run does: the container goes, its data stays.
    const dry = await cleanup({ ...opts, dryRun: true });
    expect([dry.containers.map((c) => c.agent), dry.directories]).toEqual([['off'], []]);

    const first = await cleanup(opts);
    expect(first.containers.map((c) => [c.agent, c.ok])).toEqual([['off', true]]);
    expect(first.directories).toEqual([]);
    expect(exists(`${p.prefix}off`)).toBe(false);
    expect(existsSync(path.join(p.workDir('off'), 'precious'))).toBe(true);

    // Declared agents keep their data.
    const declared = await cleanup({ ...opts, keep: ['off', 'on'] });
    expect(declared.directories).toEqual([]);

    // A later run, with nothing declaring it, may take it; the running agent's stays.
    const later = await cleanup(opts);
    expect(later.directories.map((d) => [d.agent, d.ok])).toEqual([['off', true]]);
    expect(existsSync(p.workDir('off'))).toBe(false);
    expect(existsSync(p.workDir('on'))).toBe(true);
  });
});

/** The real port with some methods replaced. */
function wrap(real: DockerPort, over: Partial<DockerPort>): DockerPort {
  return new Proxy(real, {
    get(target, prop, receiver) {
      const own = (over as Record<string | symbol, unknown>)[prop];
      if (own !== undefined) return own;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
