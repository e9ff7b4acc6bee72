import { describe, expect, it } from 'vitest';
import { canonicalJson, hashedPart, specHash } from '../../src/spec-hash.js';
import type { AgentSpec } from '../../src/types.js';
import { spec } from '../helpers/specs.js';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    [{ a: undefined, b: null }, '{"b":null}'],
    [[3, 1, 2], '[3,1,2]'],
  ])('%j -> %s', (input, out) => {
    expect(canonicalJson(input)).toBe(out);
  });
});

describe('specHash', () => {
  // Pinned: the hashes existing containers carry in their label. A change here recreates every container
  // on upgrade; change them only with a migration that says so.
  it('is the hash existing containers carry', () => {
    const s = spec('a', {
      env: { Z: 'é"\\\n', A: '1' },
      secretEnv: { K: { ref: 'fromEnv:K' } },
    } as Partial<AgentSpec>);
    expect(specHash(s)).toBe('b3852b8e8083a26de791386092af4227b9180cee2ce59e7a84767f562d9c9e53');
    expect(specHash(spec('a'))).toBe('4a9e68cc992741f3b2150be0f330efc1d7dd5e28915c6319be3439b3e164a52e');
  });

  it('leaves out the fields changed in place or kept outside the container', () => {
    const part = hashedPart(spec('a', { engine: 'b', egressSlot: 3 } as Partial<AgentSpec>));
    for (const f of ['memoryBytes', 'nanoCpus', 'pids', 'restart', 'state', 'egress', 'egressSlot', 'engine'])
      expect(part).not.toHaveProperty(f);
    expect(part).toHaveProperty('image', 'claude-agent:latest');
  });

  it('ignores key order', () => {
    const s = spec('a');
    const reordered = Object.fromEntries(Object.entries(s).reverse()) as typeof s;
    expect(specHash(reordered)).toBe(specHash(s));
  });

  it.each([
    ['memoryBytes', { memoryBytes: 1 }],
    ['nanoCpus', { nanoCpus: 1 }],
    ['pids', { pids: 1 }],
    ['restart', { restart: 'always' as const }],
    ['state', { state: 'stopped' as const }],
  ])('does not change with %s (changed in place, not by recreating)', (_f, over) => {
    expect(specHash(spec('a', over))).toBe(specHash(spec('a')));
  });

  it.each([
    ['env', { env: { X: '1' } }],
    ['image', { image: 'other:1' }],
    ['readOnly', { readOnly: false }],
    ['capAdd', { capAdd: ['CHOWN'] }],
    ['network', { network: 'host' }],
    ['workDir', { workDir: '/elsewhere' }],
  ])('changes with %s', (_f, over) => {
    expect(specHash(spec('a', over))).not.toBe(specHash(spec('a')));
  });
});
