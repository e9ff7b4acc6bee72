/**
 * Two files naming one project: the planner marks removals and changes of agents another file (still
 * there) created, adopts agents of a file that no longer exists, and leaves unlabelled (older) agents
 * alone. Pure: the files' existence is part of the observed state.
 */
import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import { describeForeign, foreignActions, type TakeOver } from '../../src/reconcile/file-owner.js';
import { foreignProblems } from '../../src/reconcile/guards.js';
import { renderProblems } from '../../src/render/apply-check.js';
import { plan } from '../../src/reconcile/plan.js';
import { planToJson, renderPlan } from '../../src/render/plan-text.js';
import type { DesiredState, ObservedContainer, ObservedState } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const A = '/srv/a/agents.yaml';
const B = '/srv/b/agents.yaml';
const MOVED = '/old/place/agents.yaml';
const a = spec('a');
const b = spec('b');

const mine = (d: DesiredState, file: string | undefined = A): DesiredState => ({
  ...d,
  file: file ?? '<stdin>',
  ...(file !== undefined && { realFile: file }),
});
const by = (c: ObservedContainer, file: string): ObservedContainer => ({
  ...c,
  labels: { ...c.labels, [LABEL.file]: file },
});
/** The files other than A that exist: B does, MOVED does not. */
const world = (containers: ObservedContainer[]): ObservedState =>
  observed(containers, { otherFiles: { [B]: true, [MOVED]: false } });

interface Case {
  name: string;
  desired: DesiredState;
  observed: ObservedState;
  /** `kind agent [createdBy]` per action. */
  expect: string[];
  adopted?: string[];
  takeOver?: TakeOver;
  /** The causes of the actions, in order, when the case checks them. */
  causes?: RegExp[];
}

const stopped = spec('a', { state: 'stopped' });
const TAKEN = new RegExp(`taken over from ${B}: a new container records this file as its owner, data kept`);

const cases: Case[] = [
  {
    name: "this file's own agents: nothing marked",
    desired: mine(desired([a])),
    observed: world([by(container(a), A), by(container(b), A)]),
    expect: ['remove b'],
  },
  {
    name: "pruning another existing file's agent is marked with that file",
    desired: mine(desired([a])),
    observed: world([by(container(a), A), by(container(b), B)]),
    expect: [`remove b ${B}`],
  },
  {
    name: "changing another file's agent (memory differs) is marked too",
    desired: mine(desired([spec('a', { memoryBytes: 1024 ** 3 })])),
    observed: world([by(container(a), B)]),
    expect: [`update a ${B}`],
  },
  {
    name: "recreating another file's agent (env differs) is marked",
    desired: mine(desired([spec('a', { env: { MODE: 'x' } })])),
    observed: world([by(container(a), B)]),
    expect: [`recreate a ${B}`],
  },
  {
    name: "another file's agent in sync: no action, nothing to guard",
    desired: mine(desired([a])),
    observed: world([by(container(a), B)]),
    expect: [],
  },
  {
    name: 'a file that no longer exists (moved): its agents are adopted, pruned without a mark',
    desired: mine(desired([a])),
    observed: world([by(container(a), MOVED), by(container(b), MOVED)]),
    expect: ['remove b'],
    adopted: [`a ${MOVED}`, `b ${MOVED}`],
  },
  {
    name: 'agents without the label (an older agentctl, stdin): adoptable, silently',
    desired: mine(desired([a])),
    observed: world([container(a), container(b)]),
    expect: ['remove b'],
  },
  {
    name: "a leftover of another file's interrupted recreate is cleanup, not guarded",
    desired: mine(desired([a])),
    observed: world([
      by(container(a), A),
      by(container(a, { id: 'c-a-next', name: 'claude-agent-a-next-1', temporary: true }), B),
    ]),
    expect: ['remove a'],
  },
  {
    name: "applied from stdin (no identity): an existing file's agents are still another's",
    desired: mine(desired([a]), undefined),
    observed: world([by(container(a), A), by(container(b), B)]),
    expect: [`remove b ${B}`],
  },
  // Taking over (allowForeignChange: 'changed'; createAgent's adopt: 'all'). Labels are fixed when a
  // container is made: only a new one records the new owner, so every step of a taken agent is a recreate.
  {
    name: "takeOver 'changed': an in-place update of another file's agent becomes a recreate, still marked",
    desired: mine(desired([spec('a', { memoryBytes: 1024 ** 3 })])),
    observed: world([by(container(a), B)]),
    takeOver: 'changed',
    expect: [`recreate a ${B}`],
    causes: [TAKEN],
  },
  {
    name: "takeOver 'changed': a stop of another file's agent too",
    desired: mine(desired([stopped])),
    observed: world([by(container(a), B)]),
    takeOver: 'changed',
    expect: [`recreate a ${B}`],
    causes: [/^file wants it stopped; taken over from/],
  },
  {
    name: "takeOver 'changed': a recreate keeps its own cause and says it takes the agent over",
    desired: mine(desired([spec('a', { env: { MODE: 'x' } })])),
    observed: world([by(container(a), B)]),
    takeOver: 'changed',
    expect: [`recreate a ${B}`],
    causes: [/^changed: .*env\.MODE.*; taken over from/],
  },
  {
    name: "takeOver 'changed': another file's agent in sync stays as it is",
    desired: mine(desired([a])),
    observed: world([by(container(a), B)]),
    takeOver: 'changed',
    expect: [],
  },
  {
    name: "takeOver 'all': another file's agent in sync is recreated; this file's own and unlabelled are not",
    desired: mine(desired([a, b, spec('c')])),
    observed: world([by(container(a), B), by(container(b), A), container(spec('c'))]),
    takeOver: 'all',
    expect: [`recreate a ${B}`],
    causes: [TAKEN],
  },
  {
    name: "takeOver 'all' from code (no file): the new container records no file",
    desired: { ...desired([a]), file: 'createAgent("a")' },
    observed: world([by(container(a), B)]),
    takeOver: 'all',
    expect: [`recreate a ${B}`],
    causes: [/a new container records no file as its owner, data kept$/],
  },
  {
    name: "takeOver: a moved file's agent is adopted, never recreated for it",
    desired: mine(desired([a])),
    observed: world([by(container(a), MOVED)]),
    takeOver: 'all',
    expect: [],
    adopted: [`a ${MOVED}`],
  },
  {
    name: "takeOver: a second container of the agent is still removed, before the agent's recreate",
    desired: mine(desired([spec('a', { memoryBytes: 1024 ** 3 })])),
    observed: world([by(container(a), B), by(container(a, { id: 'c-a-2', name: 'other-a' }), B)]),
    takeOver: 'changed',
    expect: [`remove a ${B}`, `recreate a ${B}`],
  },
  {
    name: "takeOver 'all': an agent in sync beside a second container is still taken over",
    desired: mine(desired([a])),
    observed: world([by(container(a), B), by(container(a, { id: 'c-a-2', name: 'other-a' }), B)]),
    takeOver: 'all',
    expect: [`remove a ${B}`, `recreate a ${B}`],
    causes: [/^a second container for the same agent$/, TAKEN],
  },
];

describe('plan: which file created each agent', () => {
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(c.desired, c.observed, c.takeOver ? { takeOver: c.takeOver } : {});
      if (c.causes)
        expect(p.actions.map((x) => x.cause)).toEqual(c.causes.map((r) => expect.stringMatching(r)));
      if (c.takeOver && c.expect.length > 0) expect(p.unchanged).not.toContain('a');
      expect(p.actions.map((x) => [x.kind, x.agentId, x.createdBy].filter(Boolean).join(' '))).toEqual(
        c.expect,
      );
      expect((p.adopted ?? []).map((x) => `${x.agentId} ${x.file}`)).toEqual(c.adopted ?? []);
    });
  }

  it('renders the other file on the action, the guard, and one adoption note per file', () => {
    const p = plan(
      mine(desired([spec('a', { memoryBytes: 1024 ** 3 })])),
      world([by(container(a), B), by(container(b), B), by(container(spec('c')), MOVED)]),
    );
    const text = renderPlan(p);
    expect(text).toContain(`- b will be removed  (agent is no longer in agents.yaml)  [created by ${B}]`);
    expect(text).toContain(`[created by ${B}]`);
    // The guard is one of the problems apply would refuse the run for, each with its opt-in; the CLI
    // names the flag (the library's message does not).
    const problems = foreignProblems(mine(desired([])), p, {});
    expect(problems.map((x) => [x.agents, x.optIn])).toEqual([
      [['b'], 'allowForeignPrune'],
      [['a'], 'allowForeignChange'],
    ]);
    expect(problems[0]?.message).toContain(`would remove 1 agent(s) created by ${B} (b); another file names`);
    expect(problems.map((x) => x.message).join('\n')).not.toMatch(/--allow/);
    const shown = renderProblems({ builds: [], problems, warnings: [] }).join('\n');
    expect(shown).toContain(`(pass --allow-foreign-prune to remove them)`);
    expect(shown).toContain(
      '(pass --allow-foreign-change to let this file change them and become their owner)',
    );
    expect(
      foreignProblems(mine(desired([])), p, { allowForeignPrune: true, allowForeignChange: true }),
    ).toEqual([]);
    expect(text).toContain(
      `note: 1 agent(s) were created by ${MOVED}, which no longer exists (moved or renamed?): this file adopts them`,
    );
    expect(text).toMatch(/2 on agents another file created/);
    const json = planToJson(p) as {
      actions: { agent: string; createdBy: string | null }[];
      adopted: unknown;
    };
    expect(json.actions.map((x) => [x.agent, x.createdBy])).toEqual([
      ['a', B],
      ['b', B],
      ['c', null],
    ]);
    expect(json.adopted).toEqual([{ agent: 'c', file: MOVED }]);
  });

  it('groups the guarded actions by kind and names each other file', () => {
    const C = '/srv/c/agents.yaml';
    const p = plan(
      mine(desired([spec('c', { memoryBytes: 1024 ** 3 })])),
      observed([by(container(a), B), by(container(b), C), by(container(spec('c')), C)], {
        otherFiles: { [B]: true, [C]: true },
      }),
    );
    const { prunes, changes } = foreignActions(p.actions);
    expect(prunes.map((x) => x.agentId)).toEqual(['a', 'b']);
    expect(changes.map((x) => x.agentId)).toEqual(['c']);
    expect(describeForeign(prunes)).toBe(`1 agent(s) created by ${B} (a); 1 agent(s) created by ${C} (b)`);
  });
});
