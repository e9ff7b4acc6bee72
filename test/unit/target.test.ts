import { describe, expect, it } from 'vitest';
import { plan } from '../../src/reconcile/plan.js';
import { resolveTargets, targetBuilds, targetPlan } from '../../src/reconcile/target.js';
import { planToJson, renderPlan } from '../../src/render/plan-text.js';
import type { EgressAction, Plan } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

// worker (replicas: 3), coder, and `gone` (on the engine, no longer in the file).
const d = {
  ...desired([spec('worker-1'), spec('worker-2'), spec('worker-3'), spec('coder')]),
  replicaOf: { 'worker-1': 'worker', 'worker-2': 'worker', 'worker-3': 'worker' },
};
const world = observed([
  container(spec('worker-1')),
  container(spec('coder'), { specHash: 'old' }),
  container(spec('gone')),
]);

describe('resolveTargets', () => {
  const cases: [string, string[], string[]][] = [
    ['an agent id', ['coder'], ['coder']],
    ['a replica instance', ['worker-2'], ['worker-2']],
    ['a replicated key: every instance', ['worker'], ['worker-1', 'worker-2', 'worker-3']],
    ['an agent the file no longer declares', ['gone'], ['gone']],
    [
      'repeated and overlapping targets',
      ['worker', 'worker-1', 'coder'],
      ['worker-1', 'worker-2', 'worker-3', 'coder'],
    ],
  ];
  it.each(cases)('%s', (_name, targets, ids) => {
    expect([...resolveTargets(targets, d, world)].sort()).toEqual([...ids].sort());
  });

  const bad: [string, string, RegExp][] = [
    ['a typo gets a did-you-mean', 'codr', /no agent "codr".*did you mean "coder"\?/],
    ['a typo of a replicated key', 'wroker', /did you mean "worker"\?/],
    ['nothing close', 'zzzzzz', /^target zzzzzz: no agent "zzzzzz" in \/srv\/agents.yaml or on the engine$/],
  ];
  it.each(bad)('%s', (_name, target, message) => {
    expect(() => resolveTargets([target], d, world)).toThrow(message);
  });

  it('lists the agents it knows in the error details', () => {
    try {
      resolveTargets(['nope'], d, world);
      expect.unreachable();
    } catch (e) {
      expect((e as { kind: string }).kind).toBe('usage');
      expect((e as { details: string[] }).details).toEqual([
        'agents: coder, gone, worker, worker-1, worker-2, worker-3',
      ]);
    }
  });
});

describe('targetPlan', () => {
  const full = plan(d, world);
  const kinds = (p: Plan) => p.actions.map((a) => `${a.kind} ${a.agentId}`);

  it('the full plan touches every agent (the baseline the cases cut down)', () => {
    expect(kinds(full)).toEqual(['recreate coder', 'remove gone', 'create worker-2', 'create worker-3']);
    expect(full.unchanged).toEqual(['worker-1']);
  });

  const cases: [string, string[], string[], string[]][] = [
    ['one agent', ['coder'], ['recreate coder'], []],
    ['never prunes outside the target', ['worker-2'], ['create worker-2'], []],
    ['prunes an undeclared agent only when targeted', ['gone'], ['remove gone'], []],
    [
      'unchanged agents are reported only in the target',
      ['worker-1', 'worker-3'],
      ['create worker-3'],
      ['worker-1'],
    ],
  ];
  it.each(cases)('%s', (_name, ids, actions, unchanged) => {
    const p = targetPlan(full, new Set(ids), d);
    expect(kinds(p)).toEqual(actions);
    expect(p.unchanged).toEqual(unchanged);
  });

  it('records the targets as given, once each, and the text and JSON say the plan is limited', () => {
    const p = targetPlan(full, new Set(['worker-1', 'worker-2', 'worker-3']), d, ['worker', 'worker']);
    expect(p.targets).toEqual(['worker']);
    expect(renderPlan(p).split('\n')[0]).toBe('limited to --target worker: other agents not shown');
    expect((planToJson(p) as { targets: unknown }).targets).toEqual(['worker']);
    expect(renderPlan(full)).not.toContain('limited to');
    expect((planToJson(full) as { targets: unknown }).targets).toBeNull();
  });

  const gatewaySteps: EgressAction[] = [
    { kind: 'create-network', network: 'n', internal: true, cause: 'c' },
    { kind: 'remove-gateway', containerId: 'g', name: 'g', cause: 'c' },
    { kind: 'remove-network', network: 'o', cause: 'c' },
  ];
  const withEgress: Plan = { ...full, egress: gatewaySteps };
  const policy = {
    ...d,
    agents: d.agents.map((a) => (a.id === 'coder' ? { ...a, egress: { allow: ['x.test'], deny: [] } } : a)),
  };

  it('keeps the gateway set-up a targeted policy agent depends on, never its teardown', () => {
    expect(targetPlan(withEgress, new Set(['coder']), policy).egress?.map((e) => e.kind)).toEqual([
      'create-network',
    ]);
  });
  it('leaves the gateway alone when no targeted agent has a policy', () => {
    expect(targetPlan(withEgress, new Set(['worker-2']), policy).egress).toBeUndefined();
  });

  it("a fleet plan: only the targets' moves, and only unreachable engines that hold a target", () => {
    const fleet: Plan = {
      ...full,
      migrations: [
        {
          agentId: 'coder',
          spec: spec('coder'),
          from: { engine: 'b', containerId: 'c1', name: 'n' },
          to: 'local',
          cause: 'c',
        },
        {
          agentId: 'worker-2',
          spec: spec('worker-2'),
          from: { engine: 'b', containerId: 'c2', name: 'n' },
          to: 'local',
          cause: 'c',
        },
      ],
      unreachable: [
        { engine: 'lab', message: 'down', agents: ['worker-1', 'worker-3'] },
        { engine: 'gpu', message: 'down', agents: ['other'] },
      ],
    };
    const p = targetPlan(fleet, new Set(['coder', 'worker-3']), d);
    expect(p.migrations?.map((m) => m.agentId)).toEqual(['coder']);
    expect(p.unreachable).toEqual([{ engine: 'lab', message: 'down', agents: ['worker-3'] }]);
    const none = targetPlan(fleet, new Set(['worker-1']), d);
    expect(none.migrations).toBeUndefined();
    expect(none.unreachable?.map((u) => u.engine)).toEqual(['lab']);
    expect(targetPlan(fleet, new Set(['gone']), d).unreachable).toBeUndefined();
  });

  it('a fleet target not found anywhere names the engines that were not asked', () => {
    try {
      resolveTargets(['nope'], d, world, { unreachable: ['lab'] });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        'target nope: no agent "nope" in /srv/agents.yaml or on any engine of it',
      );
      expect((e as { details: string[] }).details).toEqual([
        'agents: coder, gone, worker, worker-1, worker-2, worker-3',
        'not looked at: engine lab could not be reached',
      ]);
    }
  });

  it('builds only the images targeted agents use', () => {
    const builds = [
      { image: 'a:1', context: '/c', dockerfile: 'Dockerfile', args: {}, agents: ['coder'] },
      { image: 'b:1', context: '/c', dockerfile: 'Dockerfile', args: {}, agents: ['worker-1', 'worker-2'] },
    ];
    expect(targetBuilds(builds, new Set(['worker-2'])).map((b) => b.image)).toEqual(['b:1']);
  });
});
