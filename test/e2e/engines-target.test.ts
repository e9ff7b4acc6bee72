/**
 * diff/apply --target of a file with several engines, through the built binary, against two private
 * dockerds (test/helpers/two-engines.ts): DOCKER_HOST is dockerd A (`local`), engine `b` is dockerd B.
 * Only the targets change, on whichever engine they live; the others keep their containers (same ids);
 * the plan says it is limited as one engine's does; an engine that cannot be reached matters only when
 * it holds a target.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { shapeProblem } from '../helpers/output-schema.js';
import type { TestDockerd } from '../helpers/test-dockerd.js';
import { twoEngines } from '../helpers/two-engines.js';

const PROJECT = `i13-tgt-${process.pid}`;

describe('diff/apply --target over several engines (real dockerds, built binary)', () => {
  const t = twoEngines('i13t');
  beforeAll(t.start, 180_000);
  afterAll(t.cleanup, 120_000);
  const gone = () => `  gone: { host: "unix://${t.dir}/nowhere.sock", runtimeDir: ${t.dir}/rt-gone }`;

  function run(args: string[], agents: string[], extraEngines: string[] = []) {
    writeFileSync(path.join(t.dir, 'agents.yaml'), t.fileText(PROJECT, agents, extraEngines));
    return agentctlAsync([...args, '-f', 'agents.yaml'], { cwd: t.dir, env: { DOCKER_HOST: t.a.host } });
  }
  const idOf = (e: TestDockerd, name: string) => e.docker('inspect', '-f', '{{.Id}}', name);
  type JsonPlan = {
    actions: { agent: string; kind: string; engine: string }[];
    unchanged: string[];
    targets: string[] | null;
    unreachable: { engine: string; agents: string[] }[];
  };

  it('changes and prunes only the targets, on their engines; the plan says it is limited', async () => {
    const first = await run(
      ['apply', '--wait-ready', '0'],
      ['  x: {}', '  y: { engine: b }', '  w: { engine: b }'],
    );
    expect(first.status, first.stderr).toBe(0);
    const before = { x: idOf(t.a, 'claude-agent-x'), y: idOf(t.b, 'claude-agent-y') };

    // Every agent changes and w leaves the file: the whole plan touches all three.
    const changed = ['  x: { env: { MODE: "2" } }', '  y: { engine: b, env: { MODE: "2" } }'];
    const whole = await run(['diff', '-o', 'json'], changed);
    expect(whole.status, whole.stderr).toBe(2);
    expect(
      (JSON.parse(whole.stdout) as JsonPlan).actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`),
    ).toEqual(['b:remove:w', 'local:recreate:x', 'b:recreate:y']);

    const dj = await run(['diff', '--target', 'y', '-o', 'json'], changed);
    expect(dj.status, dj.stderr).toBe(2);
    const plan = JSON.parse(dj.stdout) as JsonPlan;
    expect(shapeProblem('diff', plan)).toBeUndefined();
    expect(plan.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`)).toEqual(['b:recreate:y']);
    expect(plan.targets).toEqual(['y']);
    const dt = await run(['diff', '--target', 'y'], changed);
    expect(dt.stdout.split('\n')[0]).toBe('limited to --target y: other agents not shown');
    expect(dt.stdout).toMatch(/^-\/\+ y on engine b will be recreated/m);
    expect(dt.stdout).not.toMatch(/^\S+ [xw] /m);

    const ap = await run(['apply', '--target', 'y', '--wait-ready', '0'], changed);
    expect(ap.status, ap.stderr).toBe(0);
    expect(ap.stdout.split('\n')[0]).toBe('limited to --target y: other agents not shown');
    expect(idOf(t.b, 'claude-agent-y')).not.toBe(before.y);
    expect(idOf(t.a, 'claude-agent-x')).toBe(before.x);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-w running', 'claude-agent-y running']);

    // An agent the file no longer declares, pruned alone from the engine it is on.
    const pr = await run(['apply', '--target', 'w', '-o', 'json', '--wait-ready', '0'], changed);
    expect(pr.status, pr.stderr).toBe(0);
    const pj = JSON.parse(pr.stdout) as { plan: JsonPlan };
    expect(shapeProblem('apply', pj)).toBeUndefined();
    expect(pj.plan.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`)).toEqual(['b:remove:w']);
    expect(pj.plan.targets).toEqual(['w']);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-y running']);
    expect(idOf(t.a, 'claude-agent-x')).toBe(before.x);
  }, 240_000);

  it('an unreachable engine counts only when it holds a target; an unknown target names it', async () => {
    const agents = [
      '  x: { env: { MODE: "3" } }',
      '  y: { engine: b, env: { MODE: "2" } }',
      '  z: { engine: gone }',
    ];
    // gone holds no target: the targeted plan is fully known (exit 2, changes pending).
    const ok = await run(['diff', '--target', 'x', '-o', 'json'], agents, [gone()]);
    expect(ok.status, ok.stderr).toBe(2);
    const okPlan = JSON.parse(ok.stdout) as JsonPlan;
    expect(okPlan.actions.map((a) => `${a.engine}:${a.kind}:${a.agent}`)).toEqual(['local:recreate:x']);
    expect(okPlan.unreachable).toEqual([]);

    const blind = await run(['diff', '--target', 'z', '--target', 'y', '-o', 'json'], agents, [gone()]);
    expect(blind.status, blind.stderr).toBe(1);
    const bp = JSON.parse(blind.stdout) as JsonPlan;
    expect(bp.unreachable.map((u) => [u.engine, u.agents])).toEqual([['gone', ['z']]]);
    expect(bp.actions).toEqual([]);
    expect(bp.unchanged).toEqual(['y']);

    const unknown = await run(['diff', '--target', 'nope'], agents, [gone()]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(
      `target nope: no agent "nope" in ${t.dir}/agents.yaml or on any engine of it`,
    );
    expect(unknown.stderr).toContain('not looked at: engine gone could not be reached');
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-y running']);
  }, 180_000);

  it('run -f makes its ad-hoc agent on the local engine, in the file project and local runtimeDir', async () => {
    const r = await run(
      ['run', 'probe', '--image', TEST_IMAGE, '--network', 'none', '-o', 'json'],
      ['  y: { engine: b, env: { MODE: "2" } }'],
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      agent: 'probe',
      project: PROJECT,
      workDir: t.workDir(t.rtA(), 'probe'),
    });
    expect(t.names(t.a, PROJECT).map((n) => n.split(' ')[0])).toEqual([
      'claude-agent-probe',
      'claude-agent-x',
    ]);
    expect(t.names(t.b, PROJECT)).toEqual(['claude-agent-y running']);
    t.a.docker('rm', '-f', 'claude-agent-probe');
  }, 120_000);
});
