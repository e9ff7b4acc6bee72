/**
 * The commands that act on one agent, through the built binary, for a file with `engines:`: each finds
 * the agent on the engine the file pins it to. Two private dockerds (test/helpers/two-engines.ts):
 * DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B. Asserts what B holds (docker inspect on
 * B) and the files in B's runtimeDir; A is checked untouched.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { holdMount } from '../helpers/docker.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-cmds-${process.pid}`;

describe('agent commands on the engine the file pins the agent to (built binary, two dockerds)', () => {
  const t = twoEngines('i13c');
  beforeAll(async () => {
    await t.start();
    write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    const r = await run('apply', '-f', 'agents.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 240_000);
  afterAll(t.cleanup, 120_000);

  const write = (agents: string[], extraEngines: string[] = []) =>
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
  // Not blocking the worker: a test of many commands would starve vitest's channel on a loaded machine.
  const run = (...args: string[]) => agentctlAsync(args, { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
  const running = (e: typeof t.a, name: string) => e.docker('inspect', '-f', '{{.State.Running}}', name);
  const onB = (file: string) => path.join(t.workDir(t.rtB(), 'y'), file);

  it('exec runs in the agent on engine b, and its writes land in b runtimeDir', async () => {
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-y running']);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    const r = await run('exec', 'y', '--', 'sh', '-c', 'echo written-in-y > /mnt/from-exec && echo ok');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe(0);
    expect(readFileSync(onB('from-exec'), 'utf8')).toBe('written-in-y\n');
    // Its exit code is the command's, as on the local engine.
    expect((await run('exec', 'y', '--', 'sh', '-c', 'exit 7')).status).toBe(7);
  }, 60_000);

  it('logs reads the container on engine b', async () => {
    const r = await run('logs', 'y');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('up-on-b\n');
  }, 60_000);

  it('cp copies into and out of the agent on engine b', async () => {
    writeFileSync(path.join(t.dir, 'in.txt'), 'from the host\n');
    const into = await run('cp', 'in.txt', 'y:/mnt/in.txt');
    expect(into.status, into.stderr).toBe(0);
    expect(readFileSync(onB('in.txt'), 'utf8')).toBe('from the host\n');
    expect(existsSync(path.join(t.workDir(t.rtA(), 'y'), 'in.txt'))).toBe(false);
    const out = await run('cp', 'y:/mnt/from-exec', 'out.txt');
    expect(out.status, out.stderr).toBe(0);
    expect(readFileSync(path.join(t.dir, 'out.txt'), 'utf8')).toBe('written-in-y\n');
  }, 60_000);

  it('stop and start act on engine b only', async () => {
    const stop = await run('stop', 'y', '-t', '1');
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/^stopped y \(/);
    expect(running(t.b, 'claude-agent-y')).toBe('false');
    expect(running(t.a, 'claude-agent-x')).toBe('true');
    const start = await run('start', 'y');
    expect(start.status, start.stderr).toBe(0);
    expect(running(t.b, 'claude-agent-y')).toBe('true');
  }, 60_000);

  it('inspect names engine b, its container there and its working directory on b host', async () => {
    const r = await run('inspect', 'y', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(rec.engine).toBe('b');
    expect(rec.containerId).toBe(t.b.docker('inspect', '-f', '{{.Id}}', 'claude-agent-y'));
    expect(rec.workDir).toBe(t.workDir(t.rtB(), 'y'));
    expect((rec.disk as { bytes: number }).bytes).toBeGreaterThan(0);
    const text = await run('inspect', 'y');
    expect(text.stdout).toMatch(/^engine: +b$/m);
    // A one-engine agent's record reads as before: no engine line.
    expect((await run('inspect', 'x')).stdout).not.toMatch(/^engine:/m);
  }, 60_000);

  it('stats samples every engine, each row naming its engine', async () => {
    const r = await run('stats', '--no-stream', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { agent: string; engine: string; workDir: string }[];
    expect(rows.map((row) => `${row.agent}@${row.engine}`)).toEqual(['x@local', 'y@b']);
    expect(rows[1]?.workDir).toBe(t.workDir(t.rtB(), 'y'));
  }, 60_000);

  it('an agent the file moved but apply has not: said to be a stray on its old engine, not "not found"', async () => {
    // The file now pins x to b; its container is still on local.
    write(['  x: { engine: b }', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    try {
      const r = await run('exec', 'x', '--', 'true');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /agent x is not on its engine b but on engine local: a stray copy, left where it was; a migration moves it \(and its \/mnt\) to b \(apply --migrate does it; --engine with the copy's engine acts on the copy where it is\)/,
      );
      // Nothing is done to the copy on the wrong engine.
      const stop = await run('stop', 'x', '-t', '1');
      expect(stop.status).toBe(1);
      expect(running(t.a, 'claude-agent-x')).toBe('true');
    } finally {
      write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    }
  }, 60_000);

  it('an id on no engine is "not found" on any engine; an unreachable engine is named', async () => {
    const none = await run('exec', 'nosuch', '--', 'true');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no agent "nosuch" in project "[^"]+" on any engine of the file/);
    write(
      [
        '  x: {}',
        '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }',
        '  w: { engine: gone }',
      ],
      [`  gone: { host: "unix://${t.dir}/no-such.sock", runtimeDir: ${t.dir}/rt-gone }`],
    );
    try {
      const r = await run('inspect', 'w');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/engine gone \(unix:\/\/.*no-such\.sock\): cannot connect \(ENOENT\)/);
      // The others still work.
      expect((await run('exec', 'y', '--', 'true')).status).toBe(0);
    } finally {
      write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    }
  }, 60_000);

  it("rm --data of an agent on b keeps its directory while a container of the other engine of b's host (local) mounts it", async () => {
    const agents = ['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }'];
    write([...agents, '  z: { engine: b }']);
    try {
      const up = await run('apply', '-f', 'agents.yaml');
      expect(up.status, up.stdout + up.stderr).toBe(0);
      const dir = t.workDir(t.rtB(), 'z');
      writeFileSync(path.join(dir, 'f'), 'keep');
      // dockerd A is `local`: another engine, but on the same host and disk as b.
      const holder = `i13c-hold-${process.pid}`;
      holdMount(t.a.docker, holder, dir, '/held:ro');
      try {
        const r = await run('rm', 'z', '--data', '-t', '1');
        expect(r.status, r.stdout + r.stderr).toBe(1);
        expect(r.stderr).toContain(
          `container removed, but ${dir} is still mounted by container ${holder} on engine local; not deleting it`,
        );
        expect(t.b.ok('inspect', 'claude-agent-z')).toBe(false);
        expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe('keep');
      } finally {
        t.a.docker('rm', '-f', holder);
      }
    } finally {
      write(agents);
    }
  }, 120_000);

  it('rm --data removes the container on b and its working directory on b host', async () => {
    const r = await run('rm', 'y', '--data', '-t', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted ${t.workDir(t.rtB(), 'y')}`));
    expect(t.names(t.b, PROJECT)).toEqual([]);
    expect(existsSync(t.workDir(t.rtB(), 'y'))).toBe(false);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
  }, 60_000);
  // From here on: y is gone; x runs on local (its dir in local's runtimeDir). A second file without
  // engines puts a copy of x on b (--no-prune: that file knows nothing of the rest), then agents.yaml
  // pins x to b, so the container on local is a stray copy.
  const other = (rt: string) =>
    writeFileSync(
      path.join(t.dir, 'other.yaml'),
      t
        .fileText(PROJECT, ['  x: {}'])
        .replace(/^engines:\n.*\n/m, '')
        .replace(t.rtA(), rt),
    );
  const applyOther = (e: typeof t.a) =>
    agentctlAsync(['apply', '-f', 'other.yaml', '--no-prune'], { cwd: t.dir, env: { DOCKER_HOST: e.host } });
  const id = (e: typeof t.a, name: string) => e.docker('inspect', '-f', '{{.Id}}', name);

  it('--engine acts on a stray copy: inspect, exec, logs, cp out, stop and start it there', async () => {
    other(t.rtB());
    const made = await applyOther(t.b);
    expect(made.status, made.stdout + made.stderr).toBe(0);
    write(['  x: { engine: b }']);
    expect(t.mountOf(t.b, 'claude-agent-x')).toBe(t.workDir(t.rtB(), 'x'));
    expect(t.mountOf(t.a, 'claude-agent-x')).toBe(t.workDir(t.rtA(), 'x'));

    // Without --engine: the agent on its own engine b.
    expect(JSON.parse((await run('inspect', 'x', '-o', 'json')).stdout).containerId).toBe(
      id(t.b, 'claude-agent-x'),
    );
    const r = await run('inspect', 'x', '--engine', 'local', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { engine: string; containerId: string; workDir: string };
    expect(rec.engine).toBe('local');
    expect(rec.containerId).toBe(id(t.a, 'claude-agent-x'));
    expect(rec.workDir).toBe(t.workDir(t.rtA(), 'x'));

    const w = await run(
      'exec',
      'x',
      '--engine',
      'local',
      '--',
      'sh',
      '-c',
      'echo stray-data > /mnt/s.txt; echo hi',
    );
    expect(w.status, w.stderr).toBe(0);
    expect(readFileSync(path.join(t.workDir(t.rtA(), 'x'), 's.txt'), 'utf8')).toBe('stray-data\n');
    expect(existsSync(path.join(t.workDir(t.rtB(), 'x'), 's.txt'))).toBe(false);
    // exec takes its own flags before `--` too (`exec x --engine local -- cmd` above).
    const logs = await run('logs', 'x', '--engine', 'local');
    expect(logs.status, logs.stderr).toBe(0);
    const out = await run('cp', '--engine', 'local', 'x:/mnt/s.txt', 'copied.txt');
    expect(out.status, out.stderr).toBe(0);
    expect(readFileSync(path.join(t.dir, 'copied.txt'), 'utf8')).toBe('stray-data\n');

    const stop = await run('stop', 'x', '--engine', 'local', '-t', '1');
    expect(stop.status, stop.stderr).toBe(0);
    expect(running(t.a, 'claude-agent-x')).toBe('false');
    expect(running(t.b, 'claude-agent-x')).toBe('true');
    expect((await run('start', 'x', '--engine', 'local')).status).toBe(0);
    expect(running(t.a, 'claude-agent-x')).toBe('true');

    const stats = await run('stats', '--no-stream', '--engine', 'local', '-o', 'json');
    expect(stats.status, stats.stderr).toBe(0);
    expect((JSON.parse(stats.stdout) as { engine: string }[]).map((row) => row.engine)).toEqual(['local']);
  }, 120_000);

  it("--engine names one of the file's engines, else a usage error with a did-you-mean", async () => {
    for (const args of [
      ['inspect', 'x', '--engine', 'lokal'],
      ['exec', 'x', '--engine', 'lokal', '--', 'true'],
      ['rm', 'x', '--engine', 'lokal'],
    ]) {
      const r = await run(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(
        /--engine lokal: unknown engine "lokal"; did you mean "local"\? \(the file's engines: b, local\)/,
      );
    }
    // A file without engines: has none to choose from.
    const r = await run('inspect', 'x', '-f', 'other.yaml', '--engine', 'local');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--engine local: .*other\.yaml declares no engines:/);
    // Nothing was touched.
    expect(running(t.a, 'claude-agent-x')).toBe('true');
  }, 60_000);

  it('rm --engine --data removes the stray and its own directory, never the agent on its engine', async () => {
    const r = await run('rm', 'x', '--engine', 'local', '--data', '-t', '1');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted ${t.workDir(t.rtA(), 'x')}`));
    expect(t.names(t.a, PROJECT)).toEqual([]);
    expect(existsSync(t.workDir(t.rtA(), 'x'))).toBe(false);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-x running']);
    expect(existsSync(t.workDir(t.rtB(), 'x'))).toBe(true);
  }, 60_000);

  it('rm --engine --data of a stray that mounts the directory its agent uses on another engine keeps it', async () => {
    // A stray on local made from a file whose runtimeDir is b's: both containers mount one directory.
    mkdirSync(t.workDir(t.rtB(), 'x'), { recursive: true });
    writeFileSync(path.join(t.workDir(t.rtB(), 'x'), 'keep.txt'), 'the agent on b\n');
    other(t.rtB());
    const made = await applyOther(t.a);
    expect(made.status, made.stdout + made.stderr).toBe(0);
    expect(t.mountOf(t.a, 'claude-agent-x')).toBe(t.workDir(t.rtB(), 'x'));
    expect(t.mountOf(t.b, 'claude-agent-x')).toBe(t.workDir(t.rtB(), 'x'));

    const r = await run('rm', 'x', '--engine', 'local', '--data', '-t', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `container removed, but ${t.workDir(t.rtB(), 'x')} is still mounted by container claude-agent-x on engine b; not deleting it`,
      ),
    );
    expect(t.names(t.a, PROJECT)).toEqual([]);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-x running']);
    expect(readFileSync(path.join(t.workDir(t.rtB(), 'x'), 'keep.txt'), 'utf8')).toBe('the agent on b\n');
  }, 120_000);
});
