/**
 * The commands that act on one agent, through the built binary, for a file with `engines:`: each finds
 * the agent on the engine the file pins it to. Two private dockerds (test/helpers/two-engines.ts):
 * DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B. Asserts what B holds (docker inspect on
 * B) and the files in B's runtimeDir; A is checked untouched.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-cmds-${process.pid}`;

describe('agent commands on the engine the file pins the agent to (built binary, two dockerds)', () => {
  const t = twoEngines('i13c');
  beforeAll(async () => {
    await t.start();
    write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    const r = run('apply', '-f', 'agents.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 240_000);
  afterAll(t.cleanup, 120_000);

  const write = (agents: string[], extraEngines: string[] = []) =>
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
  const run = (...args: string[]) => agentctl(args, { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
  const running = (e: typeof t.a, name: string) => e.docker('inspect', '-f', '{{.State.Running}}', name);
  const onB = (file: string) => path.join(t.workDir(t.rtB(), 'y'), file);

  it('exec runs in the agent on engine b, and its writes land in b runtimeDir', () => {
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-y running']);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
    const r = run('exec', 'y', '--', 'sh', '-c', 'echo written-in-y > /mnt/from-exec && echo ok');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe(0);
    expect(readFileSync(onB('from-exec'), 'utf8')).toBe('written-in-y\n');
    // Its exit code is the command's, as on the local engine.
    expect(run('exec', 'y', '--', 'sh', '-c', 'exit 7').status).toBe(7);
  }, 60_000);

  it('logs reads the container on engine b', () => {
    const r = run('logs', 'y');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('up-on-b\n');
  }, 60_000);

  it('cp copies into and out of the agent on engine b', () => {
    writeFileSync(path.join(t.dir, 'in.txt'), 'from the host\n');
    const into = run('cp', 'in.txt', 'y:/mnt/in.txt');
    expect(into.status, into.stderr).toBe(0);
    expect(readFileSync(onB('in.txt'), 'utf8')).toBe('from the host\n');
    expect(existsSync(path.join(t.workDir(t.rtA(), 'y'), 'in.txt'))).toBe(false);
    const out = run('cp', 'y:/mnt/from-exec', 'out.txt');
    expect(out.status, out.stderr).toBe(0);
    expect(readFileSync(path.join(t.dir, 'out.txt'), 'utf8')).toBe('written-in-y\n');
  }, 60_000);

  it('stop and start act on engine b only', () => {
    const stop = run('stop', 'y', '-t', '1');
    expect(stop.status, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/^stopped y \(/);
    expect(running(t.b, 'claude-agent-y')).toBe('false');
    expect(running(t.a, 'claude-agent-x')).toBe('true');
    const start = run('start', 'y');
    expect(start.status, start.stderr).toBe(0);
    expect(running(t.b, 'claude-agent-y')).toBe('true');
  }, 60_000);

  it('inspect names engine b, its container there and its working directory on b host', () => {
    const r = run('inspect', 'y', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(rec.engine).toBe('b');
    expect(rec.containerId).toBe(t.b.docker('inspect', '-f', '{{.Id}}', 'claude-agent-y'));
    expect(rec.workDir).toBe(t.workDir(t.rtB(), 'y'));
    expect((rec.disk as { bytes: number }).bytes).toBeGreaterThan(0);
    const text = run('inspect', 'y');
    expect(text.stdout).toMatch(/^engine: +b$/m);
    // A one-engine agent's record reads as before: no engine line.
    expect(run('inspect', 'x').stdout).not.toMatch(/^engine:/m);
  }, 60_000);

  it('stats samples every engine, each row naming its engine', () => {
    const r = run('stats', '--no-stream', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { agent: string; engine: string; workDir: string }[];
    expect(rows.map((row) => `${row.agent}@${row.engine}`)).toEqual(['x@local', 'y@b']);
    expect(rows[1]?.workDir).toBe(t.workDir(t.rtB(), 'y'));
  }, 60_000);

  it('an agent the file moved but apply has not: said to be a stray on its old engine, not "not found"', () => {
    // The file now pins x to b; its container is still on local.
    write(['  x: { engine: b }', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    try {
      const r = run('exec', 'x', '--', 'true');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /agent x is not on its engine b but on engine local: a stray copy, left where it was; a migration moves it \(and its \/mnt\) to b \(apply --migrate does it\)/,
      );
      // Nothing is done to the copy on the wrong engine.
      const stop = run('stop', 'x', '-t', '1');
      expect(stop.status).toBe(1);
      expect(running(t.a, 'claude-agent-x')).toBe('true');
    } finally {
      write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    }
  }, 60_000);

  it('an id on no engine is "not found" on any engine; an unreachable engine is named', () => {
    const none = run('exec', 'nosuch', '--', 'true');
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
      const r = run('inspect', 'w');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/engine gone \(unix:\/\/.*no-such\.sock\): cannot connect \(ENOENT\)/);
      // The others still work.
      expect(run('exec', 'y', '--', 'true').status).toBe(0);
    } finally {
      write(['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }']);
    }
  }, 60_000);

  it("rm --data of an agent on b keeps its directory while a container of the other engine of b's host (local) mounts it", () => {
    const agents = ['  x: {}', '  y: { engine: b, command: [sh, -c, "echo up-on-b; exec sleep 3600"] }'];
    write([...agents, '  z: { engine: b }']);
    try {
      const up = run('apply', '-f', 'agents.yaml');
      expect(up.status, up.stdout + up.stderr).toBe(0);
      const dir = t.workDir(t.rtB(), 'z');
      writeFileSync(path.join(dir, 'f'), 'keep');
      // dockerd A is `local`: another engine, but on the same host and disk as b.
      const holder = `i13c-hold-${process.pid}`;
      t.a.docker(
        'run',
        '-d',
        '--name',
        holder,
        '--network',
        'none',
        '-v',
        `${dir}:/held:ro`,
        TEST_IMAGE,
        'sleep',
        '3600',
      );
      try {
        const r = run('rm', 'z', '--data', '-t', '1');
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

  it('rm --data removes the container on b and its working directory on b host', () => {
    const r = run('rm', 'y', '--data', '-t', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted ${t.workDir(t.rtB(), 'y')}`));
    expect(t.names(t.b, PROJECT)).toEqual([]);
    expect(existsSync(t.workDir(t.rtB(), 'y'))).toBe(false);
    expect(t.names(t.a, PROJECT)).toEqual(['claude-agent-x running']);
  }, 60_000);
});
