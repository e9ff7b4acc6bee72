/**
 * Which saved changes the watcher reconciles for the changed agents alone (narrow.ts), and which need
 * the whole project: removals, anything but agents changed, egress, engines, many agents.
 */
import { describe, expect, it } from 'vitest';
import { specKeys } from '../../src/watch/backoff.js';
import { changedAgents, narrowed } from '../../src/watch/narrow.js';
import type { DesiredState } from '../../src/types.js';
import { desired, spec } from '../helpers/specs.js';

const base = desired([spec('a'), spec('b'), spec('c')]);
const applied = specKeys(base.agents);

const cases: {
  name: string;
  after: DesiredState;
  applied?: Record<string, string>;
  want: string[] | undefined;
}[] = [
  { name: 'nothing changed: no agent', after: base, want: [] },
  {
    name: 'one agent changed',
    after: desired([spec('a'), spec('b', { memoryBytes: 1 << 30 }), spec('c')]),
    want: ['b'],
  },
  { name: 'an agent added', after: desired([spec('a'), spec('b'), spec('c'), spec('d')]), want: ['d'] },
  { name: 'an agent removed: the whole project', after: desired([spec('a'), spec('b')]), want: undefined },
  {
    name: 'applied knows an agent the file no longer has: the whole project',
    after: base,
    applied: { ...applied, gone: 'x' },
    want: undefined,
  },
  {
    name: 'an agent withheld last time (not applied) is retried with the change',
    after: desired([spec('a', { nanoCpus: 1e9 }), spec('b'), spec('c')]),
    applied: { a: applied.a ?? '', b: applied.b ?? '' },
    want: ['a', 'c'],
  },
  {
    name: 'runtimeDir changed: the whole project',
    after: { ...base, runtimeDir: '/elsewhere' },
    want: undefined,
  },
  {
    name: 'a build changed: the whole project',
    after: {
      ...base,
      builds: [
        { image: 'claude-agent:latest', context: '/c', dockerfile: 'Dockerfile', args: {}, agents: [] },
      ],
    },
    want: undefined,
  },
  {
    name: 'an egress policy: the whole project (the gateway is shared)',
    after: desired([spec('a', { egress: { allow: ['example.com'] } as never }), spec('b'), spec('c')]),
    want: undefined,
  },
  {
    name: 'a file with engines: the whole project',
    after: { ...base, engines: [{ name: 'local', runtimeDir: '/srv/rt' }] },
    want: undefined,
  },
  {
    name: 'more agents changed than one list of the project costs',
    after: desired(Array.from({ length: 12 }, (_, i) => spec(`a${i}`)).concat(base.agents)),
    want: undefined,
  },
];

describe('changedAgents', () => {
  it.each(cases)('$name', ({ after, want, ...c }) => {
    const got = changedAgents(base, after, c.applied ?? applied, specKeys(after.agents));
    expect(got && [...got].sort()).toEqual(want);
  });
});

describe('narrowed', () => {
  it('keeps only the agents, their secrets and the builds of their images', () => {
    const d: DesiredState = {
      ...desired([spec('a', { image: 'x:1' }), spec('b', { image: 'y:1' })]),
      builds: [
        { image: 'x:1', context: '/x', dockerfile: 'Dockerfile', args: {}, agents: ['a'] },
        { image: 'y:1', context: '/y', dockerfile: 'Dockerfile', args: {}, agents: ['b'] },
      ],
      secrets: [
        { agentId: 'a', key: 'K', ref: 'k', fromEnv: 'K', pos: { line: 1, col: 1 }, where: 'agents.a.env.K' },
        { agentId: 'b', key: 'K', ref: 'k', fromEnv: 'K', pos: { line: 2, col: 1 }, where: 'agents.b.env.K' },
      ] as DesiredState['secrets'],
    };
    const n = narrowed(d, new Set(['b']));
    expect(n.agents.map((a) => a.id)).toEqual(['b']);
    expect(n.builds.map((b) => b.image)).toEqual(['y:1']);
    expect(n.secrets?.map((x) => x.agentId)).toEqual(['b']);
    expect(narrowed(d, new Set()).secrets).toBeUndefined();
  });
});
