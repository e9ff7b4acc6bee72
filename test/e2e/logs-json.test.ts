/**
 * `logs -o json` (built binary, real engine), checked against schemas/output/logs.json: one document
 * without -f, JSON Lines with -f (the agents, lines, a notice when apply recreates an agent), and
 * error.json when it fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync as agentctl, spawnAgentctl } from '../helpers/cli.js';
import { docker, dockerTry } from '../helpers/docker.js';
import { shape } from '../helpers/output-schema.js';
import { type TestProject, testProject } from '../helpers/project.js';

interface Line {
  type: 'line';
  time: string;
  project: string;
  agent: string;
  stream: string;
  text: string;
}
interface Doc {
  agents: { agent: string; project: string; container: string; containerId: string; engine: string }[];
  lines: Line[];
  unreachable: unknown[];
}

describe('logs -o json (real engine)', () => {
  let p: TestProject;
  const run = (args: string[]) => agentctl(args, { cwd: p.dir });
  const idOf = (agent: string) => docker('inspect', '-f', '{{.Id}}', `${p.prefix}${agent}`);

  beforeAll(async () => {
    p = testProject('i8json');
    p.write(
      [
        'agents:',
        '  a: { env: { MODE: one }, command: [sh, -c, "echo a-$MODE; echo a-err >&2; sleep 1000"] }',
        '  b: { command: [sh, -c, "sleep 0.3; echo b-out; sleep 1000"] }',
      ].join('\n'),
      '  network: none',
    );
    expect((await run(['apply', '--wait-ready', '0'])).status).toBe(0);
    const said = () =>
      docker('logs', `${p.prefix}b`).includes('b-out') &&
      dockerTry('logs', `${p.prefix}a`).stderr === 'a-err';
    for (let i = 0; i < 50 && !said(); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(() => p?.cleanup());

  it('without -f: one document, the agents with their containers and the lines with the engine’s times', async () => {
    const one = await run(['logs', 'a', '-o', 'json']);
    expect(one.status, one.stderr).toBe(0);
    const doc = JSON.parse(one.stdout) as Doc;
    shape('logs')(doc);
    expect(doc.agents).toEqual([
      { agent: 'a', project: p.project, container: `${p.prefix}a`, containerId: idOf('a'), engine: 'local' },
    ]);
    expect(doc.unreachable).toEqual([]);
    // The times are the engine's own: docker logs -t gives the same ones.
    const logs = dockerTry('logs', '-t', `${p.prefix}a`);
    const engine = { stdout: logs.stdout, stderr: logs.stderr };
    const byText = (t: string) => doc.lines.find((l) => l.text === t);
    expect(byText('a-one')).toMatchObject({ agent: 'a', project: p.project, stream: 'stdout' });
    expect(byText('a-err')).toMatchObject({ agent: 'a', project: p.project, stream: 'stderr' });
    expect(doc.lines).toHaveLength(2);
    for (const l of doc.lines) expect(engine[l.stream as 'stdout']).toContain(`${l.time} ${l.text}`);

    const all = await run(['logs', '-o', 'json']);
    const every = JSON.parse(all.stdout) as Doc;
    shape('logs')(every);
    expect(every.agents.map((a) => [a.agent, a.containerId])).toEqual([
      ['a', idOf('a')],
      ['b', idOf('b')],
    ]);
    expect(every.lines.map((l) => l.text).sort()).toEqual(['a-err', 'a-one', 'b-out']);
    const ms = every.lines.map((l) => Date.parse(l.time));
    expect([...ms].sort((x, y) => x - y)).toEqual(ms);
  });

  it('fails as error.json on stdout: an unknown agent, a bad flag value', async () => {
    const missing = await run(['logs', 'nope-zz', '-o', 'json']);
    expect(missing.status).toBe(1);
    const err = JSON.parse(missing.stdout) as { error: { kind: string; message: string } };
    shape('error')(err);
    expect(err.error.kind).toBe('not-found');
    expect(err.error.message).toMatch(/no agent "nope-zz"/);

    const bad = await run(['logs', 'a', '-o', 'json', '--tail', 'x']);
    expect(bad.status).not.toBe(0);
    const usage = JSON.parse(bad.stdout) as { error: { kind: string } };
    shape('error')(usage);
    expect(usage.error.kind).toBe('usage');
  });

  it('with -f: JSON Lines, the agents first, each line, and a notice when apply recreates the agent', async () => {
    const f = spawnAgentctl(['logs', '-f', 'a', '-o', 'json'], { cwd: p.dir });
    const events = () =>
      f
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const first = idOf('a');
    expect(await f.waitFor(() => events().some((e) => e.text === 'a-err')), f.stdout() + f.stderr()).toBe(
      true,
    );

    writeFileSync(p.file, readFileSync(p.file, 'utf8').replace('MODE: one', 'MODE: two'));
    const applied = await run(['apply', '--wait-ready', '0']);
    expect(applied.status, applied.stderr).toBe(0);
    const second = idOf('a');
    expect(second).not.toBe(first);
    expect(await f.waitFor(() => events().some((e) => e.text === 'a-two')), f.stdout() + f.stderr()).toBe(
      true,
    );
    f.child.kill('SIGINT');
    expect(await f.exited).toBe(0);

    const got = events();
    for (const e of got) shape('logs')(e);
    expect(got[0]).toMatchObject({
      type: 'agents',
      agents: [
        { agent: 'a', project: p.project, container: `${p.prefix}a`, containerId: first, engine: 'local' },
      ],
      unreachable: [],
    });
    const notices = got.filter((e) => e.type === 'notice');
    expect(notices).toEqual([
      {
        type: 'notice',
        time: expect.any(String) as string,
        project: p.project,
        agent: 'a',
        event: 'recreated',
        containerId: second,
        message: `agent a was recreated: following its new container ${second.slice(0, 12)}`,
      },
    ]);
    // The old container's lines, the notice, then the new one's.
    const order = got
      .filter((e) => e.type !== 'agents')
      .map((e) => (e.type === 'notice' ? 'notice' : e.text));
    expect(order.indexOf('notice')).toBeGreaterThan(order.indexOf('a-one'));
    expect(order.indexOf('a-two')).toBeGreaterThan(order.indexOf('notice'));
    // Notices go in the JSON only: stderr stays empty.
    expect(f.stderr()).toBe('');
  }, 180_000);
});
