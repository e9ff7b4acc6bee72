/**
 * logs of several agents (built binary, real engine): `logs A B` and `logs` (every agent of
 * ./agents.yaml) prefix each line with its padded agent id, merged in time order, stdout and stderr
 * apart; --no-prefix, --until, colors only when asked; -f follows all of them and goes on into a
 * recreated agent's new container.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync, spawnAgentctl } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('logs of several agents (real engine)', () => {
  let p: TestProject;
  const run = (args: string[], env?: Record<string, string | undefined>) =>
    agentctlAsync(args, { cwd: p.dir, env });

  beforeAll(async () => {
    p = testProject('i8logs');
    p.write(
      [
        'agents:',
        '  a: { command: [sh, -c, "echo a-one; echo a-err >&2; sleep 0.3; echo a-two; sleep 1000"] }',
        '  long-b: { command: [sh, -c, "echo b-one; sleep 0.3; echo b-two; sleep 1000"] }',
      ].join('\n'),
      '  network: none',
    );
    expect((await run(['apply', '--wait-ready', '0'])).status).toBe(0);
    for (let i = 0; i < 50 && !(await run(['logs', 'a'])).stdout.includes('a-two'); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 50 && !(await run(['logs', 'long-b'])).stdout.includes('b-two'); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(() => p?.cleanup());

  it('logs A B and logs (every agent of ./agents.yaml): padded prefixes, time order, streams apart', async () => {
    const both = await run(['logs', 'a', 'long-b']);
    expect(both.status).toBe(0);
    const out = both.stdout.split('\n').filter(Boolean);
    expect(out.filter((l) => l.startsWith('a      | '))).toEqual(['a      | a-one', 'a      | a-two']);
    expect(out.filter((l) => l.startsWith('long-b | '))).toEqual(['long-b | b-one', 'long-b | b-two']);
    expect(out).toHaveLength(4);
    expect(both.stderr).toBe('a      | a-err\n');
    // No id: every agent of the file's project, the same lines.
    expect((await run(['logs'])).stdout).toBe(both.stdout);

    // With -t the engine's times come after the prefix, and they never go backwards across agents.
    const stamped = (await run(['logs', '-t'])).stdout.split('\n').filter(Boolean);
    expect(stamped).toHaveLength(4);
    const times = stamped.map((l) => /^\S+ +\| (\S+) /.exec(l)?.[1] ?? l);
    expect(times.every((t) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(t))).toBe(true);
    const ms = times.map((t) => Date.parse(t));
    expect([...ms].sort((x, y) => x - y)).toEqual(ms);

    expect(
      (await run(['logs', 'a', 'long-b', '--no-prefix'])).stdout.split('\n').filter(Boolean).sort(),
    ).toEqual(['a-one', 'a-two', 'b-one', 'b-two']);
    // --until goes to the engine: nothing was said before 2000; everything before 2100.
    expect((await run(['logs', '--until', '2000-01-01T00:00:00Z'])).stdout).toBe('');
    expect((await run(['logs', '--until', '2100-01-01T00:00:00Z'])).stdout).toBe(both.stdout);
    expect((await run(['logs', 'a', '--until', '10m'])).stdout).toBe('');
    expect((await run(['logs', '-n', '1'])).stdout.split('\n').filter(Boolean).sort()).toEqual([
      'a      | a-two',
      'long-b | b-two',
    ]);
  });

  it('colors the prefixes only when asked (FORCE_COLOR), never under NO_COLOR in a pipe', async () => {
    const colored = await run(['logs'], { FORCE_COLOR: '1', NO_COLOR: undefined });
    expect(colored.stdout).toContain('\x1b[36ma      |\x1b[39m a-one');
    expect(colored.stdout).toContain('\x1b[33mlong-b |\x1b[39m b-one');
    expect((await run(['logs'])).stdout).not.toContain('\x1b[');
  });

  it('an unknown id fails before anything is printed', async () => {
    const r = await run(['logs', 'a', 'nope-zz']);
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/no agent "nope-zz"/);
  });

  it("-f follows every agent and goes on into a recreated agent's new container", async () => {
    const f = spawnAgentctl(['logs', '-f'], { cwd: p.dir });
    expect(
      await f.waitFor(() => f.stdout().includes('long-b | b-two') && f.stdout().includes('a      | a-two')),
    ).toBe(true);
    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('echo a-one;', 'echo a-new;'));
    expect((await run(['apply', '--wait-ready', '0'])).status).toBe(0);
    expect(await f.waitFor(() => f.stdout().includes('a      | a-new'))).toBe(true);
    expect(f.stderr()).toMatch(/agentctl: agent a was recreated: following its new container [0-9a-f]{12}\n/);
    f.child.kill('SIGINT');
    expect(await f.exited).toBe(0);
  });
});
