/**
 * A file with `engines:` through the built binary, on two private dockerds (test/helpers/two-engines.ts;
 * DOCKER_HOST is dockerd A, `local`; engine `b` is dockerd B): `logs` of several agents reads each on
 * its own engine and merges them (text, --since/--until, -o json, -f), names an unreachable engine and
 * still shows the others; `shell --engine` and `mcp --engine` (the SDK's own Client over stdio) reach a
 * stray copy on the engine named, told apart from the agent on its own engine by a file only that
 * container's /mnt holds.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync, CLI, spawnAgentctl } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { shape } from '../helpers/output-schema.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13l-${process.pid}`;
// stderr first: once the stdout line is in the engine's log, both are.
const speak = (id: string) => `command: [sh, -c, "echo ${id}-err >&2; echo ${id}-out; exec sleep 3600"]`;
// x on local, y on b; a stray copy of y on local (made from a file without engines: below).
const AGENTS = [`  x: { ${speak('x')} }`, `  y: { engine: b, ${speak('y')} }`];

describe('logs of several agents, shell and mcp over the engines of a file (built binary, two dockerds)', () => {
  const t = twoEngines('i13l');
  const write = (agents: string[], extraEngines: string[] = []) =>
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
  const env = () => ({ DOCKER_HOST: t.a.host });
  const run = (...args: string[]) => agentctlAsync(args, { cwd: t.dir, env: env() });
  const lines = (text: string) => text.split('\n').filter(Boolean).sort();
  const id = (e: typeof t.a, name: string) => e.docker('inspect', '-f', '{{.Id}}', name);
  const gone = () => [`  gone: { host: "unix://${t.dir}/no-such.sock", runtimeDir: ${t.dir}/rt-gone }`];

  beforeAll(async () => {
    await t.start();
    write(AGENTS);
    const up = await run('apply', '-f', 'agents.yaml');
    expect(up.status, up.stdout + up.stderr).toBe(0);
    // The stray: y from a file that knows no engines, applied on A (--no-prune: x is not in it).
    writeFileSync(
      path.join(t.dir, 'other.yaml'),
      t
        .fileText(PROJECT, ['  y: { command: [sh, -c, "echo y-stray; exec sleep 3600"] }'])
        .replace(/^engines:\n.*\n/m, ''),
    );
    const stray = await run('apply', '-f', 'other.yaml', '--no-prune');
    expect(stray.status, stray.stdout + stray.stderr).toBe(0);
    // What each container's /mnt holds tells them apart.
    writeFileSync(path.join(t.workDir(t.rtA(), 'y'), 'where'), 'the stray on local\n');
    writeFileSync(path.join(t.workDir(t.rtB(), 'y'), 'where'), 'y on its engine b\n');
    for (const [e, name, said] of [
      [t.a, 'claude-agent-x', 'x-out'],
      [t.b, 'claude-agent-y', 'y-out'],
      [t.a, 'claude-agent-y', 'y-stray'],
    ] as const)
      await eventually(`${name} has spoken`, () => e.docker('logs', name).includes(said) || null);
  }, 240_000);
  afterAll(t.cleanup, 120_000);

  it('logs (no id, or several) reads each agent on its own engine, merged with prefixes; a stray is left out', async () => {
    for (const ids of [[], ['x', 'y']]) {
      const r = await run('logs', ...ids);
      expect(r.status, r.stderr).toBe(0);
      expect(lines(r.stdout)).toEqual(['x | x-out', 'y | y-out']);
      expect(lines(r.stderr)).toEqual(['x | x-err', 'y | y-err']);
    }
    // --since and --until go to every engine.
    expect((await run('logs', '--since', '1h')).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    const before = await run('logs', '--until', '2000-01-01T00:00:00Z');
    expect([before.status, before.stdout, before.stderr]).toEqual([0, '', '']);
    // --engine local: that engine's containers, the stray included, and nothing of b.
    const local = await run('logs', '--engine', 'local');
    expect(local.status, local.stderr).toBe(0);
    expect(lines(local.stdout)).toEqual(['x | x-out', 'y | y-stray']);
  }, 60_000);

  it('logs -o json: each agent with its engine and container there, the lines of both', async () => {
    const r = await run('logs', '-o', 'json');
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      agents: { agent: string; engine: string; containerId: string }[];
      lines: { agent: string; stream: string; text: string; time: string }[];
      unreachable: unknown[];
    };
    shape('logs')(doc);
    expect(doc.agents.map((a) => [a.agent, a.engine, a.containerId])).toEqual([
      ['x', 'local', id(t.a, 'claude-agent-x')],
      ['y', 'b', id(t.b, 'claude-agent-y')],
    ]);
    expect(doc.lines.map((l) => `${l.agent} ${l.stream} ${l.text}`).sort()).toEqual([
      'x stderr x-err',
      'x stdout x-out',
      'y stderr y-err',
      'y stdout y-out',
    ]);
    const ms = doc.lines.map((l) => Date.parse(l.time));
    expect([...ms].sort((p, q) => p - q)).toEqual(ms);
    expect(doc.unreachable).toEqual([]);
  }, 60_000);

  it('logs -f follows every engine: a line written later on each shows up', async () => {
    const f = spawnAgentctl(['logs', '-f'], { cwd: t.dir, env: env() });
    try {
      expect(
        await f.waitFor(() => f.stdout().includes('x | x-out') && f.stdout().includes('y | y-out')),
        f.stdout() + f.stderr(),
      ).toBe(true);
      // Written to the agents' own stdout (PID 1's), as if they had said it.
      t.a.docker('exec', 'claude-agent-x', 'sh', '-c', 'echo x-later > /proc/1/fd/1');
      t.b.docker('exec', 'claude-agent-y', 'sh', '-c', 'echo y-later > /proc/1/fd/1');
      expect(
        await f.waitFor(() => f.stdout().includes('x | x-later') && f.stdout().includes('y | y-later')),
        f.stdout() + f.stderr(),
      ).toBe(true);
      expect(f.stdout()).not.toContain('y-stray');
    } finally {
      f.child.kill('SIGINT');
    }
    expect(await f.exited).toBe(0);
  }, 90_000);

  it('an unreachable engine is named on stderr, exit 1, and the agents of the others are still shown', async () => {
    // v: declared on b, never applied.
    write([...AGENTS, '  w: { engine: gone }', '  v: { engine: b }'], gone());
    try {
      const named = new RegExp(
        `^agentctl: engine gone \\(unix://${t.dir}/no-such\\.sock\\): .*; agent w not looked at$`,
      );
      for (const ids of [[], ['x', 'y', 'w']]) {
        const r = await run('logs', ...ids);
        expect(r.status, ids.join(' ')).toBe(1);
        expect(lines(r.stdout)).toEqual(['x | x-later', 'x | x-out', 'y | y-later', 'y | y-out']);
        const err = lines(r.stderr);
        expect(err.filter((l) => l.startsWith('agentctl:'))).toEqual([expect.stringMatching(named)]);
        expect(err.filter((l) => !l.startsWith('agentctl:'))).toEqual(['x | x-err', 'y | y-err']);
      }
      // An agent its engine answered for, not there: "not found" (every engine asked, gone named), not
      // an unreachable b.
      const missing = await run('logs', 'x', 'v');
      expect([missing.status, missing.stdout]).toEqual([1, '']);
      expect(missing.stderr).toMatch(
        /no agent "v" in project "[^"]+"; not every engine could be asked, it may be on one of them/,
      );
      expect(missing.stderr).not.toMatch(/engine b/);
      const j = await run('logs', '-o', 'json');
      expect(j.status).toBe(1);
      const doc = JSON.parse(j.stdout) as {
        agents: { agent: string; engine: string }[];
        unreachable: { engine: string; message: string; agents: string[] }[];
      };
      shape('logs')(doc);
      expect(doc.agents.map((a) => `${a.agent}@${a.engine}`)).toEqual(['x@local', 'y@b']);
      expect(doc.unreachable.map((u) => [u.engine, u.agents])).toEqual([['gone', ['w']]]);
      expect(doc.unreachable[0]?.message).toMatch(/no-such\.sock/);
      // -f too: the reachable engines are followed, the other named at the start.
      const f = spawnAgentctl(['logs', '-f', '-o', 'json'], { cwd: t.dir, env: env() });
      try {
        expect(await f.waitFor(() => f.stdout().includes('"y-later"')), f.stdout() + f.stderr()).toBe(true);
        expect(f.stderr()).toMatch(/^agentctl: engine gone .*; agent w not looked at$/m);
        const first = JSON.parse(f.stdout().split('\n')[0] as string) as Record<string, unknown>;
        shape('logs')(first);
        expect(first).toMatchObject({ type: 'agents', unreachable: [{ engine: 'gone', agents: ['w'] }] });
      } finally {
        f.child.kill('SIGINT');
      }
      expect(await f.exited).toBe(1);
    } finally {
      write(AGENTS);
    }
  }, 120_000);

  it('shell --engine local reaches the stray copy (stdin piped in), without it the agent on b', async () => {
    const input = 'cat /mnt/where\nexit 3\n';
    const stray = await agentctlAsync(['shell', 'y', '--engine', 'local'], { cwd: t.dir, env: env(), input });
    expect(stray).toEqual({ status: 3, stdout: 'the stray on local\n', stderr: '' });
    const home = await agentctlAsync(['shell', 'y'], { cwd: t.dir, env: env(), input });
    expect(home).toEqual({ status: 3, stdout: 'y on its engine b\n', stderr: '' });
  }, 60_000);

  it("mcp --engine local serves the stray copy: bash runs in local's container, without it in b's", async () => {
    const where = async (args: string[]) => {
      const client = new Client({ name: 'agentctl-test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'mcp', '--agent', 'y', ...args],
          cwd: t.dir,
          env: { ...(process.env as Record<string, string>), ...env() },
          stderr: 'pipe',
        }),
      );
      try {
        return (await client.callTool({ name: 'bash', arguments: { command: 'cat /mnt/where; hostname' } }))
          .structuredContent as { exitCode: number; stdout: string };
      } finally {
        await client.close();
      }
    };
    // The container's own hostname (the engine's default: its short id) says which engine ran it.
    const short = (e: typeof t.a) => id(e, 'claude-agent-y').slice(0, 12);
    expect(await where(['--engine', 'local'])).toMatchObject({
      exitCode: 0,
      stdout: `the stray on local\n${short(t.a)}\n`,
    });
    expect(await where([])).toMatchObject({ exitCode: 0, stdout: `y on its engine b\n${short(t.b)}\n` });
  }, 90_000);
});
