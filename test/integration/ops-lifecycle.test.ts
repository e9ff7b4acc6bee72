/**
 * start/stop/restart/rm, logs, inspect, stats and ps across projects against the real engine; the
 * result is read back with the docker CLI. Agents use `network: none`: these operations need no network.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectAgent } from '../../src/ops/inspect.js';
import { removeAgents, restartAgents, startAgents, stopAgents } from '../../src/ops/lifecycle.js';
import { getLogs } from '../../src/ops/logs.js';
import { psAll } from '../../src/ops/ps.js';
import { getStats, StatsSampler } from '../../src/ops/stats.js';
import { docker, dockerTry, exists, inspect, TEST_IMAGE } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

const MiB = 1024 ** 2;

describe('operating agents (real engine)', () => {
  const projects: TestProject[] = [];
  const extra: string[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
    for (const name of extra.splice(0)) dockerTry('rm', '-f', name);
  });

  const fleet = (tag: string, agents: string) => appliedProject(projects, tag, agents);

  it('stops, starts and restarts agents; an unknown id among them changes nothing', async () => {
    const p = await fleet('life', 'agents:\n  a: {}\n  b: {}');
    const [a, b] = [`${p.prefix}a`, `${p.prefix}b`];
    const project = p.project;

    await expect(stopAgents(['a', 'nope'], { project })).rejects.toMatchObject({
      kind: 'not-found',
      message: `no agent "nope" in project "${project}"`,
    });
    expect([inspect(a).State.Running, inspect(b).State.Running]).toEqual([true, true]);

    const stopped = await stopAgents(['a', 'b', 'a'], { project, stopTimeoutSeconds: 1 });
    expect(stopped.map((r) => [r.agent, r.ok])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect([inspect(a).State.Status, inspect(b).State.Status]).toEqual(['exited', 'exited']);

    expect((await startAgents(['a'], { project }))[0]).toMatchObject({ agent: 'a', ok: true, container: a });
    expect([inspect(a).State.Running, inspect(b).State.Running]).toEqual([true, false]);

    const before = inspect(a).State.StartedAt as string;
    await restartAgents(['a', 'b'], { project, stopTimeoutSeconds: 1 });
    expect(inspect(a).State.StartedAt).not.toBe(before);
    expect(inspect(b).State.Running).toBe(true);
  });

  it('resolves an id across projects, and lists the candidates when it is ambiguous', async () => {
    const id = `amb-${randomBytes(3).toString('hex')}`;
    const p1 = await fleet('amb1', `agents:\n  ${id}: {}`);
    const p2 = await fleet('amb2', `agents:\n  ${id}: {}`);
    const err = await stopAgents([id]).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'usage', message: expect.stringMatching(/ambiguous/) });
    expect((err as { details: string[] }).details.sort()).toEqual(
      [`  ${p1.project}/${id} (${p1.prefix}${id})`, `  ${p2.project}/${id} (${p2.prefix}${id})`].sort(),
    );
    expect(inspect(`${p1.prefix}${id}`).State.Running).toBe(true);

    const only = await stopAgents([id], { project: p2.project, stopTimeoutSeconds: 1 });
    expect(only.map((r) => r.project)).toEqual([p2.project]);
    expect(inspect(`${p2.prefix}${id}`).State.Running).toBe(false);
    expect(inspect(`${p1.prefix}${id}`).State.Running).toBe(true);

    const all = await psAll();
    const mine = all.filter((r) => r.agent === id).map((r) => [r.project, r.state]);
    expect(mine.sort()).toEqual(
      [
        [p1.project, 'running'],
        [p2.project, 'exited'],
      ].sort(),
    );
    expect((await psAll({ project: p1.project })).map((r) => r.agent)).toEqual([id]);
  });

  it('removes containers and keeps data, or deletes data with removeData', async () => {
    const p = await fleet('rm', 'agents:\n  keep: {}\n  wipe: {}');
    docker('exec', `${p.prefix}wipe`, 'sh', '-c', 'mkdir -p /mnt/d && echo x > /mnt/d/f');
    docker('exec', `${p.prefix}keep`, 'sh', '-c', 'echo x > /mnt/f');

    const kept = await removeAgents(['keep'], { project: p.project, stopTimeoutSeconds: 1 });
    expect(kept).toEqual([{ agent: 'keep', project: p.project, container: `${p.prefix}keep`, ok: true }]);
    expect(exists(`${p.prefix}keep`)).toBe(false);
    expect(existsSync(path.join(p.workDir('keep'), 'f'))).toBe(true);

    const wiped = await removeAgents(['wipe'], {
      project: p.project,
      removeData: true,
      stopTimeoutSeconds: 1,
    });
    expect(wiped[0]).toMatchObject({ ok: true, removedData: p.workDir('wipe') });
    expect(wiped[0]?.freedBytes).toBeGreaterThan(0);
    expect(exists(`${p.prefix}wipe`)).toBe(false);
    expect(existsSync(p.workDir('wipe'))).toBe(false);
    expect(existsSync(p.workDir('keep'))).toBe(true);
  });

  it('never deletes data through a symlink, nor a mount that is not an agent working directory', async () => {
    const p = await fleet('rmsym', 'agents:\n  s: {}');
    // Move the working directories elsewhere and leave a symlink: the mount source now goes through it.
    const elsewhere = path.join(p.dir, 'elsewhere');
    renameSync(path.join(p.dir, 'runtime', 'agent-working-directory'), elsewhere);
    symlinkSync(elsewhere, path.join(p.dir, 'runtime', 'agent-working-directory'));
    writeFileSync(path.join(elsewhere, 's', 'precious'), 'data');
    const [r] = await removeAgents(['s'], { project: p.project, removeData: true, stopTimeoutSeconds: 1 });
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/symlink/) });
    expect(exists(`${p.prefix}s`)).toBe(false);
    expect(existsSync(path.join(elsewhere, 's', 'precious'))).toBe(true);

    // A container of ours whose /mnt is some other directory (made by hand, as a bad label would be).
    const odd = path.join(p.dir, 'odd-data');
    mkdirSync(odd);
    writeFileSync(path.join(odd, 'precious'), 'data');
    const name = `${p.prefix}odd`;
    extra.push(name);
    docker(
      'create',
      '--name',
      name,
      '--label',
      `agentctl.project=${p.project}`,
      '--label',
      'agentctl.agent=odd',
      '--network',
      'none',
      '--mount',
      `type=bind,source=${odd},target=/mnt`,
      TEST_IMAGE,
    );
    const [o] = await removeAgents(['odd'], { project: p.project, removeData: true });
    expect(o).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not <runtimeDir>\/agent-working-directory\/odd/),
    });
    expect(existsSync(path.join(odd, 'precious'))).toBe(true);
  });

  it('reads logs with stdout and stderr apart, tail, timestamps and since; also of a stopped agent', async () => {
    const p = await fleet(
      'logs',
      [
        'agents:',
        "  talk: { restart: 'no', command: [sh, -c, 'echo out1; echo err1 >&2; echo out2'] }",
        "  count: { restart: 'no', command: [sh, -c, 'for i in 1 2 3 4 5; do echo l$i; done'] }",
      ].join('\n'),
    );
    docker('wait', `${p.prefix}talk`); // it has exited: everything it will say is in the log
    const project = p.project;
    const all = await getLogs('talk', { project });
    expect([all.stdout, all.stderr]).toEqual(['out1\nout2\n', 'err1\n']);
    docker('wait', `${p.prefix}count`);
    // One stream keeps its order (stdout and stderr are separate pipes, so across them it is not kept).
    expect((await getLogs('count', { project, tail: 2 })).stdout).toBe('l4\nl5\n');
    const stamped = await getLogs('talk', { project, timestamps: true });
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out1\n\S+ out2\n$/);
    const future = await getLogs('talk', { project, since: new Date(Date.now() + 3_600_000) });
    expect([future.stdout, future.stderr]).toEqual(['', '']);
    await expect(getLogs('nope', { project })).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('follows logs to sinks until the container stops, or until aborted', async () => {
    const p = await fleet(
      'follow',
      [
        'agents:',
        "  ends: { restart: 'no', command: [sh, -c, 'for i in 1 2 3; do echo line$i; sleep 0.2; done'] }",
        "  runs: { command: [sh, -c, 'echo ready; exec sleep 1000'] }",
      ].join('\n'),
    );
    const collect = (onText?: (text: string) => void) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          chunks.push(chunk);
          onText?.(Buffer.concat(chunks).toString());
          done();
        },
      });
      return { sink, text: () => Buffer.concat(chunks).toString() };
    };
    const out = collect();
    const err = collect();
    // Returns only when the engine ends the stream: when `ends` has exited.
    await getLogs('ends', { project: p.project, follow: true, stdout: out.sink, stderr: err.sink });
    expect(out.text()).toBe('line1\nline2\nline3\n');
    expect(inspect(`${p.prefix}ends`).State.Running).toBe(false);

    const stop = new AbortController();
    const live = collect((text) => {
      if (text.includes('ready')) stop.abort();
    });
    await getLogs('runs', {
      project: p.project,
      follow: true,
      stdout: live.sink,
      stderr: live.sink,
      signal: stop.signal,
    });
    expect(live.text()).toBe('ready\n');
    expect(inspect(`${p.prefix}runs`).State.Running).toBe(true);
  });

  it('reads the raw log stream of a container with a TTY', async () => {
    const project = `tty-${randomBytes(4).toString('hex')}`;
    const name = `${project}-t`;
    extra.push(name);
    docker(
      'run',
      '-t',
      '--name',
      name,
      '--label',
      `agentctl.project=${project}`,
      '--label',
      'agentctl.agent=t',
      '--network',
      'none',
      TEST_IMAGE,
      'sh',
      '-c',
      'echo hello; echo oops >&2',
    );
    const logs = await getLogs('t', { project });
    // A terminal merges the streams (and writes CRLF): all of it is stdout, no frame headers in it.
    expect(logs.stdout).toBe('hello\r\noops\r\n');
    expect(logs.stderr).toBe('');
  });

  it('inspects an agent: spec, state, limits, working directory, disk use, image version', async () => {
    const tag = `agentctl-test-versioned:${randomBytes(4).toString('hex')}`;
    const context = mkdtempSync(path.join(os.tmpdir(), 'agentctl-image-'));
    writeFileSync(
      path.join(context, 'Dockerfile'),
      `FROM ${TEST_IMAGE}\nLABEL org.opencontainers.image.version=9.8.7\n`,
    );
    docker('build', '-q', '-t', tag, context);
    rmSync(context, { recursive: true, force: true });
    try {
      const p = await fleet('insp', `agents:\n  i: { image: "${tag}", memory: 96m, env: { MODE: x } }`);
      docker('exec', `${p.prefix}i`, 'sh', '-c', 'head -c 200000 /dev/zero > /mnt/blob');
      const r = await inspectAgent('i', { project: p.project });
      expect(r).toMatchObject({
        agent: 'i',
        project: p.project,
        container: `${p.prefix}i`,
        state: 'running',
        image: tag,
        imageVersion: '9.8.7',
        limits: { memoryBytes: 96 * MiB, nanoCpus: 5e8, pids: 1024, restart: 'unless-stopped' },
        workDir: p.workDir('i'),
      });
      expect(r.containerId).toBe(inspect(`${p.prefix}i`).Id);
      expect(r.spec).toMatchObject({
        image: tag,
        network: 'none',
        env: expect.objectContaining({ MODE: 'x' }),
      });
      expect(r.disk?.bytes).toBeGreaterThanOrEqual(200_000);
      expect(r.disk?.complete).toBe(true);
    } finally {
      // The image can go once no container uses it.
      for (const p of projects.splice(0)) p.cleanup();
      dockerTry('rmi', tag);
    }
  });

  it('samples stats of running agents: CPU %, memory against the limit, pids, /mnt disk use', async () => {
    const p = await fleet('stats', 'agents:\n  busy: {}\n  idle: {}\n  off: { state: stopped }');
    docker('exec', `${p.prefix}busy`, 'sh', '-c', 'head -c 300000 /dev/zero > /mnt/blob');
    const rows = await getStats({ project: p.project });
    expect(rows.map((r) => r.agent)).toEqual(['busy', 'idle']);
    for (const r of rows) {
      expect(r.project).toBe(p.project);
      expect(r.memoryLimitBytes).toBe(64 * MiB);
      expect(r.memoryBytes).toBeGreaterThan(0);
      expect(r.memoryBytes).toBeLessThan(64 * MiB);
      expect(r.pids).toBeGreaterThanOrEqual(1);
      expect(r.cpuPercent).toBeGreaterThanOrEqual(0);
    }
    expect(rows[0]?.diskBytes).toBeGreaterThanOrEqual(300_000);

    // A live view: later samples are one-shot, computed against the sampler's own previous one.
    const sampler = new StatsSampler({ project: p.project });
    await sampler.sample();
    const second = await sampler.sample();
    expect(second.map((r) => typeof r.cpuPercent)).toEqual(['number', 'number']);
  });
});
