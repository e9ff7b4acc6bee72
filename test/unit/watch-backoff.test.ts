/**
 * The watch controller's repair back-off, driven as data: a script of plans, sightings and clock times
 * in, held agents out. Each script replays what the controller does around one reconcile: decide on the
 * plan at `at`, then settle with what was carried out.
 */
import { describe, expect, it } from 'vitest';
import {
  type BackoffPolicy,
  type BackoffState,
  decide,
  delayAfter,
  sawUp,
  settle,
  type SpecKeys,
  withhold,
} from '../../src/watch/backoff.js';
import type { Action, Plan } from '../../src/types.js';

const policy: BackoffPolicy = { initialMs: 1000, maxMs: 8000, resetAfterMs: 30_000 };

type Step =
  /** A reconcile at `at` whose plan has actions for `needs`; `held` = agent -> until, as expected. */
  | { at: number; needs: string[]; held: Record<string, number>; unchanged?: string[]; spec?: SpecKeys }
  /** The agents were seen up at `at` (a die event after running, or found as declared). */
  | { at: number; up: string[] };

function start(agent: string): Action {
  return { kind: 'start', agentId: agent, containerId: `c-${agent}`, name: agent, cause: 'exited' };
}

function planFor(agents: string[]): Plan {
  return { project: 'p', actions: agents.map(start), unchanged: [], conflicts: [] };
}

/** Runs a script the way the controller does; returns the held agents of each reconcile step. */
function run(steps: Step[], initialSpec: SpecKeys = { a: 'A', b: 'B' }): Record<string, number>[] {
  let state: BackoffState = {};
  // As after the first apply: the file's specs are the ones applied.
  let applied: SpecKeys = initialSpec;
  const out: Record<string, number>[] = [];
  for (const step of steps) {
    if ('up' in step) {
      state = sawUp(state, step.up, step.at, policy);
      continue;
    }
    const desired = step.spec ?? applied;
    const d = decide(planFor(step.needs), { state, applied, desired, now: step.at, policy });
    out.push(Object.fromEntries(d.held.map((h) => [h.agent, h.until])));
    state = settle(state, { decision: d, unchanged: step.unchanged ?? [], desired, now: step.at, policy });
    applied = desired;
  }
  return out;
}

describe('repair back-off', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 8000],
    [30, 8000],
  ])('after %i repair(s) the next waits %i ms', (repairs, ms) => {
    expect(delayAfter(repairs, policy)).toBe(ms);
  });

  const cases: { name: string; steps: Step[] }[] = [
    {
      name: 'a crash loop: first repair at once, then 1 s, 2 s, 4 s, capped at 8 s',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 100, needs: ['a'], held: { a: 1000 } },
        { at: 1000, needs: ['a'], held: {} },
        { at: 1100, needs: ['a'], held: { a: 3000 } },
        { at: 3000, needs: ['a'], held: {} },
        { at: 3050, needs: ['a'], held: { a: 7000 } },
        { at: 7000, needs: ['a'], held: {} },
        { at: 7000, needs: ['a'], held: { a: 15_000 } },
        { at: 15_000, needs: ['a'], held: {} },
        { at: 15_001, needs: ['a'], held: { a: 23_000 } },
      ],
    },
    {
      name: 'one agent backing off does not hold another',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 100, needs: ['a', 'b'], held: { a: 1000 } },
        { at: 200, needs: ['a', 'b'], held: { a: 1000, b: 1100 } },
      ],
    },
    {
      name: 'seen up for resetAfterMs after its last repair: the next repair is immediate again',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 1000, needs: ['a'], held: {} },
        { at: 3000, needs: ['a'], held: {} },
        { at: 33_000, needs: [], held: {}, unchanged: ['a'] },
        { at: 33_100, needs: ['a'], held: {} },
        { at: 33_200, needs: ['a'], held: { a: 34_100 } },
      ],
    },
    {
      name: 'seen up, but not for long enough: still backing off',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 1000, needs: ['a'], held: {} },
        { at: 3000, needs: ['a'], held: {} },
        { at: 5000, needs: [], held: {}, unchanged: ['a'] },
        { at: 5100, needs: ['a'], held: { a: 7000 } },
      ],
    },
    {
      name: 'a death after a long run (die event) resets; a quick one does not',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 1000, needs: ['a'], held: {} },
        { at: 1500, up: ['a'] },
        { at: 1600, needs: ['a'], held: { a: 3000 } },
        { at: 40_000, up: ['a'] },
        { at: 40_100, needs: ['a'], held: {} },
      ],
    },
    {
      name: 'a changed spec is applied at once and starts the back-off afresh',
      steps: [
        { at: 0, needs: ['a'], held: {} },
        { at: 1000, needs: ['a'], held: {} },
        { at: 1100, needs: ['a'], held: { a: 3000 }, spec: { a: 'A', b: 'B' } },
        { at: 1200, needs: ['a'], held: {}, spec: { a: 'A2', b: 'B' } },
        { at: 1300, needs: ['a'], held: {} },
        { at: 1400, needs: ['a'], held: { a: 2300 } },
      ],
    },
    {
      name: 'an agent new to the file is never held; one gone from it is forgotten',
      steps: [
        { at: 0, needs: ['c'], held: {}, spec: { a: 'A', b: 'B', c: 'C' } },
        { at: 100, needs: ['a'], held: {} },
        { at: 200, needs: ['b'], held: {}, spec: { b: 'B' } },
        { at: 300, needs: ['a'], held: {}, spec: { a: 'A', b: 'B' } },
      ],
    },
  ];

  it.each(cases)('$name', ({ steps }) => {
    const expected = steps
      .filter((s): s is Extract<Step, { needs: string[] }> => 'needs' in s)
      .map((s) => s.held);
    expect(run(steps)).toEqual(expected);
  });

  it('holds by filtering the plan: the held agents lose their actions and name conflicts, no one else does', () => {
    const p: Plan = {
      project: 'p',
      actions: [start('a'), start('b')],
      unchanged: ['c'],
      conflicts: [{ agentId: 'a', name: 'a', containerId: 'x', message: 'taken' }],
    };
    expect(withhold(p, new Set(['a']))).toEqual({
      project: 'p',
      actions: [start('b')],
      unchanged: ['c'],
      conflicts: [],
    });
    expect(withhold(p, new Set())).toBe(p);
  });

  it('reports what a held repair waits for: its number and the delay imposed', () => {
    let state: BackoffState = {};
    const keys = { a: 'A' };
    for (const now of [0, 1000]) {
      const d = decide(planFor(['a']), { state, applied: keys, desired: keys, now, policy });
      state = settle(state, { decision: d, unchanged: [], desired: keys, now, policy });
    }
    const d = decide(planFor(['a']), { state, applied: keys, desired: keys, now: 1500, policy });
    expect(d.held).toEqual([{ agent: 'a', until: 3000, delayMs: 2000, attempt: 3 }]);
    expect(d.repairs).toEqual([]);
    expect(d.plan.actions).toEqual([]);
  });
});
