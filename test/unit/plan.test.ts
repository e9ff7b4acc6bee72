import { describe, expect, it } from 'vitest';
import { plan } from '../../src/reconcile/plan.js';
import type { DesiredState, ObservedState } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const GiB = 1024 ** 3;
const a = spec('a');
const b = spec('b');

interface Case {
  name: string;
  desired: DesiredState;
  observed: ObservedState;
  prune?: boolean;
  /** `kind agent` per action, in plan order. */
  expect: string[];
  unchanged?: string[];
  cause?: RegExp;
}

const cases: Case[] = [
  {
    name: 'empty world: create every agent',
    desired: desired([a, b]),
    observed: observed([]),
    expect: ['create a', 'create b'],
  },
  {
    name: 'in sync: nothing to do',
    desired: desired([a, b]),
    observed: observed([container(a), container(b)]),
    expect: [],
    unchanged: ['a', 'b'],
  },
  {
    name: 'memory changed in the file: update in place',
    desired: desired([spec('a', { memoryBytes: 4 * GiB })]),
    observed: observed([container(a)]),
    expect: ['update a'],
    cause: /memory/,
  },
  {
    name: 'memory changed behind our back (docker update): update in place',
    desired: desired([a]),
    observed: observed([
      container(a, { limits: { memoryBytes: GiB, nanoCpus: 2e9, pids: 1024, restart: 'unless-stopped' } }),
    ]),
    expect: ['update a'],
  },
  {
    name: 'restart policy and pids change in place',
    desired: desired([spec('a', { restart: 'always', pids: 10 })]),
    observed: observed([container(a)]),
    expect: ['update a'],
    cause: /pids, restart/,
  },
  {
    name: 'env changed: recreate',
    desired: desired([spec('a', { env: { ...a.env, MODE: 'batch' } })]),
    observed: observed([container(a)]),
    expect: ['recreate a'],
    cause: /env\.MODE/,
  },
  {
    name: 'image tag now points to another image id: recreate',
    desired: desired([a]),
    observed: observed([container(a)], { images: { 'claude-agent:latest': 'sha256:2222' } }),
    expect: ['recreate a'],
    cause: /now points to 2222/,
  },
  {
    name: 'image missing locally is not a reason to recreate',
    desired: desired([a]),
    observed: observed([container(a)], { images: { 'claude-agent:latest': null } }),
    expect: [],
    unchanged: ['a'],
  },
  {
    name: 'container stopped behind our back: start',
    desired: desired([a]),
    observed: observed([container(a, { state: 'exited' })]),
    expect: ['start a'],
    cause: /exited/,
  },
  {
    name: 'created, never started, last start failed (an engine crash may hold its task): recreate',
    desired: desired([a]),
    observed: observed([
      container(a, {
        state: 'created',
        startedAt: '0001-01-01T00:00:00Z',
        startError: 'task abc: already exists',
      }),
    ]),
    expect: ['recreate a'],
    cause: /created but never started, and its last start failed \(task abc: already exists\)/,
  },
  {
    name: 'created, never started, no failed start: start',
    desired: desired([a]),
    observed: observed([container(a, { state: 'created', startedAt: '0001-01-01T00:00:00Z' })]),
    expect: ['start a'],
  },
  {
    name: 'created and the file wants it stopped: left alone',
    desired: desired([spec('a', { state: 'stopped' })]),
    observed: observed([container(spec('a', { state: 'stopped' }), { state: 'created' })]),
    expect: [],
    unchanged: ['a'],
  },
  {
    name: 'listed running but never started (engine crash): recreate',
    desired: desired([a]),
    observed: observed([container(a, { state: 'running', startedAt: '0001-01-01T00:00:00Z' })]),
    expect: ['recreate a'],
    cause: /lists the container running but it never started/,
  },
  {
    name: 'running and started: unchanged',
    desired: desired([a]),
    observed: observed([container(a, { state: 'running', startedAt: '2026-01-01T10:00:00.5Z' })]),
    expect: [],
    unchanged: ['a'],
  },
  {
    name: 'container paused behind our back: unpause (the engine cannot start a paused one)',
    desired: desired([a]),
    observed: observed([container(a, { state: 'paused' })]),
    expect: ['unpause a'],
    cause: /paused/,
  },
  {
    name: 'state: stopped in the file: stop',
    desired: desired([spec('a', { state: 'stopped' })]),
    observed: observed([container(a)]),
    expect: ['stop a'],
  },
  {
    name: 'stopped and stopped: nothing',
    desired: desired([spec('a', { state: 'stopped' })]),
    observed: observed([container(spec('a', { state: 'stopped' }))]),
    expect: [],
    unchanged: ['a'],
  },
  {
    name: 'limits and state both drifted: update then start',
    desired: desired([a]),
    observed: observed([
      container(a, {
        state: 'exited',
        limits: { memoryBytes: GiB, nanoCpus: 2e9, pids: 1024, restart: 'unless-stopped' },
      }),
    ]),
    expect: ['update a', 'start a'],
  },
  {
    name: 'dead container: recreate',
    desired: desired([a]),
    observed: observed([container(a, { state: 'dead' })]),
    expect: ['recreate a'],
  },
  {
    name: 'agent removed from the file: remove',
    desired: desired([a]),
    observed: observed([container(a), container(b)]),
    expect: ['remove b'],
    cause: /no longer in agents\.yaml/,
  },
  {
    name: 'agent removed from the file, --no-prune: keep it',
    desired: desired([a]),
    observed: observed([container(a), container(b)]),
    prune: false,
    expect: [],
  },
  {
    name: 'leftover replacement from an interrupted recreate is removed, even with --no-prune',
    desired: desired([a]),
    observed: observed([
      container(a),
      container(a, { id: 'tmp', name: 'claude-agent-a-next-abc123', temporary: true }),
    ]),
    prune: false,
    expect: ['remove a'],
    cause: /interrupted recreate/,
  },
  {
    name: 'interrupted after the old one was removed: leftover removed, agent created',
    desired: desired([a]),
    observed: observed([container(a, { id: 'tmp', name: 'claude-agent-a-next-abc123', temporary: true })]),
    expect: ['remove a', 'create a'],
  },
  {
    name: 'namePrefix changed: recreate under the new name',
    desired: desired([spec('a', { name: 'sandbox-a' })]),
    observed: observed([container(a)]),
    expect: ['recreate a'],
    cause: /name/,
  },
  {
    name: 'limits changed on a runtime that cannot update in place (gVisor): recreate, never drift',
    desired: desired([spec('a', { runtime: 'runsc', pids: 2048, restart: 'always' })]),
    observed: observed([
      container(spec('a', { runtime: 'runsc' }), {
        noLiveUpdate: 'its runtime runsc (gVisor) cannot change limits of a running container',
      }),
    ]),
    expect: ['recreate a'],
    cause: /^pids, restart differ from the file, and its runtime runsc \(gVisor\) cannot change limits/,
  },
  {
    name: 'nothing changed on a runtime that cannot update: unchanged, not recreated',
    desired: desired([spec('a', { runtime: 'runsc' })]),
    observed: observed([container(spec('a', { runtime: 'runsc' }), { noLiveUpdate: 'cannot' })]),
    expect: [],
    unchanged: ['a'],
  },
  {
    name: 'created by an older agentctl without a spec label: recreate',
    desired: desired([a]),
    observed: observed([container(a, { specHash: 'old', labels: {} })]),
    expect: ['recreate a'],
    cause: /different spec/,
  },
];

describe('plan', () => {
  it.each(cases)('$name', (c) => {
    const p = plan(c.desired, c.observed, { prune: c.prune });
    expect(p.actions.map((x) => `${x.kind} ${x.agentId}`)).toEqual(c.expect);
    if (c.unchanged) expect(p.unchanged).toEqual(c.unchanged);
    if (c.cause) expect(p.actions.map((x) => x.cause).join(' | ')).toMatch(c.cause);
    expect(p.conflicts).toEqual([]);
  });

  it('is deterministic: the same inputs give the same plan whatever the input order', () => {
    const specs = ['d', 'b', 'a', 'c'].map((id) => spec(id));
    const obs = observed([
      container(spec('x')),
      container(spec('c')),
      container(spec('b'), { state: 'exited' }),
    ]);
    const p1 = plan(desired(specs), obs);
    const p2 = plan(desired([...specs].reverse()), { ...obs, containers: [...obs.containers].reverse() });
    expect(p2).toEqual(p1);
    expect(p1.actions.map((x) => `${x.kind} ${x.agentId}`)).toEqual([
      'create a',
      'start b',
      'create d',
      'remove x',
    ]);
  });

  it('reports field-level before/after for a recreate', () => {
    const p = plan(
      desired([spec('a', { env: { ...a.env, MODE: 'x' }, command: ['sh', '-c', 'true'] })]),
      observed([container(a)]),
    );
    const action = p.actions[0];
    expect(action?.kind).toBe('recreate');
    if (action?.kind !== 'recreate') return;
    expect(action.changes).toEqual([
      { path: 'command', before: undefined, after: ['sh', '-c', 'true'] },
      { path: 'env.MODE', before: undefined, after: 'x' },
    ]);
  });

  it('reports a foreign container holding a needed name as a conflict', () => {
    const p = plan(
      desired([a, b]),
      observed([container(b)], { foreign: [{ id: 'f00', name: 'claude-agent-a' }] }),
    );
    expect(p.conflicts).toHaveLength(1);
    expect(p.conflicts[0]?.message).toMatch(/claude-agent-a.*f00, which is not an agentctl agent/);
  });

  it('names the owning project when the name is held by an agent of another project', () => {
    const owner = { project: 'other', agent: 'a' };
    const p = plan(desired([a]), observed([], { foreign: [{ id: 'f00', name: 'claude-agent-a', owner }] }));
    expect(p.conflicts[0]?.message).toMatch(
      /"claude-agent-a" is taken by container f00, agent "a" of another agentctl project, "other" .*namePrefix: /,
    );
    expect(p.conflicts[0]?.message).not.toMatch(/not an agentctl/);
  });

  it('never touches foreign containers: they appear in no action', () => {
    const p = plan(desired([a]), observed([], { foreign: [{ id: 'f00', name: 'claude-agent-a' }] }));
    expect(p.actions.some((x) => 'containerId' in x && x.containerId === 'f00')).toBe(false);
  });

  it('update carries before/after in file units', () => {
    const p = plan(desired([spec('a', { memoryBytes: 4 * GiB, nanoCpus: 1e9 })]), observed([container(a)]));
    const u = p.actions[0];
    expect(u?.kind === 'update' && u.changes).toEqual([
      { path: 'cpus', before: 2e9, after: 1e9 },
      { path: 'memory', before: 2 * GiB, after: 4 * GiB },
    ]);
  });
});

describe('plan: agents left alone but not well', () => {
  it.each([
    [
      'restarting between runs',
      { state: 'restarting', restartCount: 4, exitCode: 3 },
      'restart-looping (restarted 4 time(s), last exit code 3)',
    ],
    [
      'running again after restarts (exit code unknown)',
      { state: 'running', restartCount: 2, exitCode: 0 },
      'restart-looping (restarted 2 time(s))',
    ],
    [
      'unhealthy',
      { state: 'running', restartCount: 0, health: 'unhealthy' },
      'unhealthy (its healthcheck fails)',
    ],
  ] as const)('are reported as failing when %s', (_, live, message) => {
    const p = plan(desired([a, b]), observed([container(a, live), container(b)]));
    expect(p.actions).toEqual([]);
    expect(p.unchanged).toEqual(['a', 'b']);
    expect(p.failing).toEqual([{ agentId: 'a', message }]);
  });

  it('are not reported when well, or when the file wants them stopped', () => {
    expect(
      plan(desired([a]), observed([container(a, { restartCount: 0, health: 'healthy' })])).failing,
    ).toBeUndefined();
    const stopped = spec('a', { state: 'stopped' });
    expect(
      plan(desired([stopped]), observed([container(stopped, { state: 'exited', exitCode: 1 })])).failing,
    ).toBeUndefined();
  });
});
