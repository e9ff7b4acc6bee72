import { describe, expect, it } from 'vitest';
import { canonicalJson, specHash } from '../../src/spec-hash.js';
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
