import { describe, expect, it } from 'vitest';
import { type FleetObserved, planFleet } from '../../src/fleet/plan.js';
import type { AgentSpec, DesiredState, EngineSpec } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const ENGINES: EngineSpec[] = [
  { name: 'b', host: 'unix:///run/b.sock', runtimeDir: '/b/rt' },
  { name: 'c', host: 'unix:///run/c.sock', runtimeDir: '/c/rt' },
  { name: 'local', runtimeDir: '/srv/rt' },
];

function on(engine: string, id: string, over: Partial<AgentSpec> = {}): AgentSpec {
  const root = ENGINES.find((e) => e.name === engine)?.runtimeDir ?? '/srv/rt';
  return spec(id, {
    ...(engine !== 'local' && { engine }),
    workDir: `${root}/agent-working-directory/${id}`,
    ...over,
  });
}

function fleetFile(agents: AgentSpec[]): DesiredState {
  return { ...desired(agents), engines: ENGINES };
}

function fleet(byEngine: Record<string, AgentSpec[] | string>): FleetObserved {
  const out: FleetObserved = {};
  for (const e of ENGINES) {
    const v = byEngine[e.name] ?? [];
    out[e.name] =
      typeof v === 'string'
        ? { ok: false, message: v }
        : { ok: true, observed: observed(v.map((s) => container(s, { id: `${e.name}-${s.id}` }))) };
  }
  return out;
}

/** `engine:kind:agent` per action, for compact tables. */
function steps(p: ReturnType<typeof planFleet>['plan']): string[] {
  return p.actions.map((a) => `${a.engine}:${a.kind}:${a.agentId}`);
}

describe('planFleet', () => {
  const a = on('local', 'a');
  const b = on('b', 'b1');
  const cAgent = on('c', 'c1');

  it.each<[string, AgentSpec[], Record<string, AgentSpec[] | string>, string[], string[]]>([
    [
      'a fresh fleet: each agent created on its engine',
      [a, b, cAgent],
      {},
      ['local:create:a', 'b:create:b1', 'c:create:c1'],
      [],
    ],
    ['converged: nothing to do', [a, b], { local: [a], b: [b] }, [], ['a', 'b1']],
    [
      'a stray copy on another engine next to the real one is removed there',
      [a, b],
      { local: [a, on('local', 'b1')], b: [b] },
      ['local:remove:b1'],
      ['a'],
    ],
    [
      'an agent no longer in the file is pruned on whichever engine holds it',
      [a],
      { local: [a], c: [on('c', 'gone')] },
      ['c:remove:gone'],
      ['a'],
    ],
    [
      'an unreachable engine withholds only its agents',
      [a, b, cAgent],
      { local: [], b: 'connect ENOENT /run/b.sock', c: [] },
      ['local:create:a', 'c:create:c1'],
      [],
    ],
  ])('%s', (_name, agents, world, expected, unchanged) => {
    const { plan } = planFleet(fleetFile(agents), fleet(world));
    expect(steps(plan)).toEqual(expected);
    expect(plan.unchanged).toEqual(unchanged);
    expect(plan.conflicts).toEqual([]);
  });

  it('reports the unreachable engine with the agents it withholds', () => {
    const { plan, perEngine } = planFleet(fleetFile([a, b]), fleet({ b: 'no answer' }));
    expect(plan.unreachable).toEqual([{ engine: 'b', message: 'no answer', agents: ['b1'] }]);
    expect(Object.keys(perEngine).sort()).toEqual(['c', 'local']);
  });

  it('a move is a conflict without migrate: nothing created at home, nothing removed at the source', () => {
    const { plan } = planFleet(fleetFile([b]), fleet({ local: [on('local', 'b1')] }));
    expect(steps(plan)).toEqual([]);
    expect(plan.conflicts).toEqual([
      expect.objectContaining({
        agentId: 'b1',
        engine: 'b',
        containerId: 'local-b1',
        message:
          "agent b1 is on engine local, but the file puts it on engine b: moving it copies its /mnt to b (a migration); nothing was moved, its data stays on local's host in /srv/rt/agent-working-directory/b1",
        optIn: 'migrate',
      }),
    ]);
    expect(plan.unchanged).toEqual([]);
  });

  it('with migrate a move is one visible migration, from the source container to the target engine', () => {
    const { plan, perEngine } = planFleet(fleetFile([b]), fleet({ local: [on('local', 'b1')] }), {
      migrate: true,
    });
    expect(steps(plan)).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.migrations).toEqual([
      {
        agentId: 'b1',
        spec: b,
        from: {
          engine: 'local',
          containerId: 'local-b1',
          name: 'claude-agent-b1',
          workDir: '/srv/rt/agent-working-directory/b1',
        },
        to: 'b',
        cause: 'the file moves agent b1 from engine local to engine b',
      },
    ]);
    expect(perEngine.b?.actions).toEqual([]);
  });

  it('an agent on two engines, neither its own, is a conflict even with migrate', () => {
    const { plan } = planFleet(fleetFile([b]), fleet({ local: [on('local', 'b1')], c: [on('c', 'b1')] }), {
      migrate: true,
    });
    expect(plan.migrations).toBeUndefined();
    expect(plan.conflicts.map((c) => c.message)).toEqual([
      'agent b1 is on engines c and local but the file puts it on engine b; agentctl moves one copy only: remove the others (agentctl down on that engine, or docker rm), then migrate it',
    ]);
    // --migrate alone does not let it go ahead: no opt-in to name.
    expect(plan.conflicts[0]?.optIn).toBeUndefined();
  });

  it('a container elsewhere whose home engine is unreachable is left alone', () => {
    const { plan } = planFleet(fleetFile([b]), fleet({ local: [on('local', 'b1')], b: 'down' }));
    expect(steps(plan)).toEqual([]);
    expect(plan.conflicts).toEqual([]);
  });

  it('is deterministic: the same inputs give the same plan', () => {
    const world = { local: [a, on('local', 'b1')], b: [b], c: [on('c', 'x')] };
    expect(planFleet(fleetFile([a, b]), fleet(world))).toEqual(planFleet(fleetFile([b, a]), fleet(world)));
  });
});
