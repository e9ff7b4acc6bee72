/** run and cleanup against the real engine, read back with the docker CLI and the filesystem. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from '../../src/ops/cleanup.js';
import { createAgent } from '../../src/ops/create-agent.js';
import { AgentExistsError } from '../../src/ops/reconcile.js';
import { followUntilExit, runAgent } from '../../src/ops/run.js';
import {
  docker,
  exists,
  inspect,
  projectContainers,
  removeProjectContainers,
  TEST_IMAGE,
} from '../helpers/docker.js';

const MiB = 1024 ** 2;
const DAY = 86_400_000;

describe('run and cleanup (real engine)', () => {
  const dirs: string[] = [];
  const projects: string[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) removeProjectContainers(p);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function sandbox() {
    const id = randomBytes(4).toString('hex');
    const project = `run-${id}`;
    const cwd = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
    projects.push(project);
    dirs.push(cwd);
    // A unique name prefix: container names never meet anyone else's.
    return { project, cwd, namePrefix: `${project}-`, network: 'none', image: TEST_IMAGE };
  }

  it('creates a hardened agent with the file defaults and the given limits, leaving the others alone', async () => {
    const s = sandbox();
    const first = await runAgent({ ...s, id: 'one' });
    const second = await runAgent({ ...s, memory: '96m', cpus: 0.5 });
    expect(second.agent).toMatch(/^agent-[0-9a-f]{6}$/);
    expect(projectContainers(s.project)).toEqual([`${s.project}-${second.agent}`, `${s.project}-one`].sort());
    expect(inspect(first.containerId).State.Running).toBe(true);

    const c = inspect(second.containerId);
    expect(c.HostConfig).toMatchObject({
      Memory: 96 * MiB,
      MemorySwap: 96 * MiB,
      NanoCpus: 5e8,
      PidsLimit: 1024,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Init: true,
      NetworkMode: 'none',
    });
    expect(c.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    expect(c.Config.Labels).toMatchObject({ 'agentctl.project': s.project, 'agentctl.agent': second.agent });
    expect(c.Mounts[0]).toMatchObject({
      Source: path.join(s.cwd, 'evanai_runtime', 'agent-working-directory', second.agent),
      Destination: '/mnt',
    });
    expect(second.workDir).toBe(c.Mounts[0].Source);

    await expect(runAgent({ ...s, id: 'one' })).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(/already exists/),
    });
    expect(inspect(first.containerId).Id).toBe(first.containerId);
  });

  it('never replaces an agent, even when two runs race to make it: exactly one wins', async () => {
    const s = sandbox();
    // Both start before either holds the project lock: the check must be made under it.
    const results = await Promise.allSettled([
      runAgent({ ...s, id: 'race', memory: '96m' }),
      runAgent({ ...s, id: 'race', memory: '128m' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect([won.length, lost.length]).toEqual([1, 1]);
    // The library names no command (the CLI adds `start it with agentctl start race`: e2e run tests).
    expect(lost[0]?.reason).toBeInstanceOf(AgentExistsError);
    expect(lost[0]?.reason).toMatchObject({
      kind: 'usage',
      message: expect.stringMatching(
        new RegExp(
          `^agent race already exists in project "${s.project}" \\(container ${s.project}-race, running\\); refusing to replace it, nothing was changed$`,
        ),
      ),
    });
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof runAgent>>>).value;
    const c = inspect(`${s.project}-race`);
    expect(c.Id).toBe(winner.containerId);
    expect(c.HostConfig.Memory).toBe((results[0]?.status === 'fulfilled' ? 96 : 128) * MiB);
    expect(projectContainers(s.project)).toEqual([`${s.project}-race`]);
  });

  it('createAgent with createOnly refuses an existing agent under the lock, changing nothing', async () => {
    const s = sandbox();
    const fleet = { project: s.project, runtimeDir: path.join(s.cwd, 'rt'), namePrefix: s.namePrefix };
    const agent = { image: TEST_IMAGE, network: 'none' };
    const results = await Promise.allSettled([
      createAgent({ id: 'one', ...agent, memory: '96m' }, fleet, { createOnly: true, lockWaitMs: 60_000 }),
      createAgent({ id: 'one', ...agent, memory: '128m' }, fleet, { createOnly: true, lockWaitMs: 60_000 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(AgentExistsError);
    expect(lost?.reason).toMatchObject({
      kind: 'usage',
      agent: 'one',
      message: expect.stringMatching(/already exists .*; refusing to replace it, nothing was changed$/),
    });
    const c = inspect(`${s.project}-one`);
    expect(c.HostConfig.Memory).toBe((results[0]?.status === 'fulfilled' ? 96 : 128) * MiB);
    const id = c.Id as string;
    // Stopped, it is still there: refused, and left stopped.
    docker('stop', '-t', '0', id);
    await expect(
      createAgent({ id: 'one', ...agent, memory: '96m' }, fleet, { createOnly: true }),
    ).rejects.toBeInstanceOf(AgentExistsError);
    expect(inspect(`${s.project}-one`)).toMatchObject({ Id: id, State: { Running: false } });
    // Without createOnly, createAgent converges it as before.
    await createAgent({ id: 'one', ...agent, memory: '96m' }, fleet);
    expect(inspect(`${s.project}-one`)).toMatchObject({
      State: { Running: true },
      HostConfig: { Memory: 96 * MiB },
    });
  });

  it('reports a bad field by its path (no made-up position), and a missing image before creating anything', async () => {
    const s = sandbox();
    // The CLI turns the path into the flag (--memory: ...; test/e2e/run-flags.test.ts).
    await expect(runAgent({ ...s, id: 'x', memory: 'lots' })).rejects.toMatchObject({
      kind: 'config',
      message: expect.stringMatching(/^agent x: memory: /),
      problems: [expect.objectContaining({ path: ['agents', 'x', 'memory'] })],
    });
    await expect(runAgent({ ...s, id: 'Bad/Id' })).rejects.toMatchObject({ kind: 'usage' });
    await expect(runAgent({ ...s, id: 'x', image: 'agentctl-no-such-image:nope' })).rejects.toMatchObject({
      kind: 'preflight',
      message: expect.stringMatching(
        /^preflight failed, nothing was changed: image "agentctl-no-such-image:nope" is not present/,
      ),
    });
    expect(projectContainers(s.project)).toEqual([]);
  });

  it('runs a command to its end, streams its output, returns its exit code and removes the container', async () => {
    const s = sandbox();
    const run = await runAgent({
      ...s,
      id: 'job',
      restart: 'no',
      command: ['sh', '-c', 'echo to-out; echo to-err >&2; echo data > /mnt/result; exit 3'],
    });
    const sink = () => {
      const chunks: Buffer[] = [];
      return {
        w: new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }),
        text: () => Buffer.concat(chunks).toString(),
      };
    };
    const [out, err] = [sink(), sink()];
    expect(await followUntilExit(run, { stdout: out.w, stderr: err.w, remove: true })).toBe(3);
    expect([out.text(), err.text()]).toEqual(['to-out\n', 'to-err\n']);
    expect(exists(run.containerId)).toBe(false);
    expect(existsSync(path.join(run.workDir, 'result'))).toBe(true); // data kept
  });

  it('stops the command when aborted (Ctrl-C), then still removes the container', async () => {
    const s = sandbox();
    const run = await runAgent({
      ...s,
      id: 'long',
      restart: 'no',
      command: ['sh', '-c', 'echo started; exec sleep 1000'],
    });
    const stop = new AbortController();
    const out = new Writable({
      write(chunk: Buffer, _e, done) {
        if (chunk.toString().includes('started')) stop.abort();
        done();
      },
    });
    const code = await followUntilExit(run, { stdout: out, stderr: out, remove: true, signal: stop.signal });
    expect(code).toBe(143); // SIGTERM, passed on by the init process
    expect(exists(run.containerId)).toBe(false);
  });

  it('cleans up stopped containers and unused old working directories, never through a symlink', async () => {
    const s = sandbox();
    const keep = await runAgent({ ...s, id: 'live' });
    const stopped = await runAgent({ ...s, id: 'stopped' });
    docker('stop', '-t', '1', stopped.containerId);
    const runtimeDir = path.join(s.cwd, 'evanai_runtime');
    const work = path.join(runtimeDir, 'agent-working-directory');
    // An orphan: a working directory whose container is long gone, with data in it.
    mkdirSync(path.join(work, 'orphan', 'sub'), { recursive: true });
    writeFileSync(path.join(work, 'orphan', 'sub', 'f'), Buffer.alloc(50_000, 1));
    // A symlink that looks like one: what it points to must survive.
    const outside = path.join(s.cwd, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'precious'), 'x');
    symlinkSync(outside, path.join(work, 'linked'));
    const now = Date.now();
    const old = new Date(now - 30 * DAY);
    for (const d of ['orphan', 'live', 'stopped']) utimesSync(path.join(work, d), old, old);
    // A recent orphan: changed an hour before the `now` of the last run below, so younger than its cutoff.
    mkdirSync(path.join(work, 'recent'));
    const recent = new Date(now + 2 * DAY - 3_600_000);
    utimesSync(path.join(work, 'recent'), recent, recent);

    // Nothing stopped 7 days ago yet (the container stopped just now): only the orphan goes.
    const week = await cleanup({ project: s.project, runtimeDir, olderThanMs: 7 * DAY, dryRun: true });
    expect(week.containers).toEqual([]);
    expect(week.directories.map((d) => d.agent)).toEqual(['orphan']);

    const dry = await cleanup({
      project: s.project,
      runtimeDir,
      olderThanMs: 0,
      dryRun: true,
      now: now + 1000,
    });
    expect(dry.containers.map((c) => c.agent)).toEqual(['stopped']);
    // The stopped agent's container existed when the run started: its data is never deleted in the
    // same run as its container.
    expect(dry.directories.map((d) => d.agent)).toEqual(['orphan']);
    expect(exists(stopped.containerId)).toBe(true);
    expect(existsSync(path.join(work, 'orphan'))).toBe(true);

    const real = await cleanup({
      project: s.project,
      runtimeDir,
      olderThanMs: DAY,
      now: now + 2 * DAY,
    });
    expect(real.containers.map((c) => [c.agent, c.ok])).toEqual([['stopped', true]]);
    expect(real.directories.map((d) => [d.agent, d.ok])).toEqual([['orphan', true]]);
    expect(existsSync(path.join(work, 'stopped'))).toBe(true);
    expect(real.freedBytes).toBeGreaterThanOrEqual(50_000);
    expect(real.skipped).toEqual([`${path.join(work, 'linked')}: a symlink; not followed`]);
    expect(exists(stopped.containerId)).toBe(false);
    expect(exists(keep.containerId)).toBe(true);
    expect(existsSync(path.join(work, 'live'))).toBe(true);
    expect(existsSync(path.join(work, 'orphan'))).toBe(false);
    expect(existsSync(path.join(outside, 'precious'))).toBe(true);
    expect(existsSync(path.join(work, 'recent'))).toBe(true);
  });

  it('refuses a symlinked runtime directory', async () => {
    const s = sandbox();
    const real = path.join(s.cwd, 'real');
    mkdirSync(path.join(real, 'agent-working-directory', 'x'), { recursive: true });
    mkdirSync(path.join(s.cwd, 'rt'));
    symlinkSync(
      path.join(real, 'agent-working-directory'),
      path.join(s.cwd, 'rt', 'agent-working-directory'),
    );
    await expect(
      cleanup({ project: s.project, runtimeDir: path.join(s.cwd, 'rt'), olderThanMs: 0 }),
    ).rejects.toMatchObject({ kind: 'unsafe', message: expect.stringMatching(/symlink/) });
    expect(existsSync(path.join(real, 'agent-working-directory', 'x'))).toBe(true);
  });
});
