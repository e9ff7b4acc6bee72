import { describe, expect, it } from 'vitest';
import { plan } from '../../src/reconcile/plan.js';
import { planToJson, renderPlan } from '../../src/render/plan-text.js';
import { cpusOf, jsonText } from '../../src/render/json.js';
import { naturalCompare } from '../../src/util/natural-sort.js';
import { formatBytes, formatCpus, formatDuration } from '../../src/render/units.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

describe('natural order', () => {
  it.each([
    [
      ['w-10', 'w-2', 'w-1'],
      ['w-1', 'w-2', 'w-10'],
    ],
    [
      ['a10b2', 'a10b10', 'a9'],
      ['a9', 'a10b2', 'a10b10'],
    ],
    [
      ['x-01', 'x-1', 'x-0'],
      ['x-0', 'x-1', 'x-01'],
    ],
    [
      ['b', 'a-1', 'a', 'a-'],
      ['a', 'a-', 'a-1', 'b'],
    ],
    [
      [`n${'9'.repeat(30)}`, 'n10'],
      ['n10', `n${'9'.repeat(30)}`],
    ],
  ])('%j sorts as %j', (input, sorted) => expect([...input].sort(naturalCompare)).toEqual(sorted));
});

describe('JSON conventions', () => {
  it('print an unknown value as null, never a dropped key', () => {
    expect(JSON.parse(jsonText({ a: undefined, b: [undefined], c: { d: undefined } }))).toEqual({
      a: null,
      b: [null],
      c: { d: null },
    });
  });
  it('give CPUs in CPUs', () => expect([cpusOf(1.5e9), cpusOf(undefined)]).toEqual([1.5, null]));
});

describe('units', () => {
  it.each([
    [2 * 1024 ** 3, '2g'],
    [1536 * 1024 ** 2, '1536m'],
    [64 * 1024, '64k'],
    [1000, '1000b'],
    [24683584 * 1024, '24GiB'],
    [1024 ** 2 + 512 * 1024, '1.5MiB'],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s));
  it.each([
    [2e9, '2'],
    [5e8, '0.5'],
    [1.25e9, '1.25'],
  ])('formatCpus(%d) = %s', (n, s) => expect(formatCpus(n)).toBe(s));
  it.each([
    [5_000, '5s'],
    [125_000, '2m5s'],
    [3_600_000, '1h'],
    [3 * 86_400_000, '3d'],
  ])('formatDuration(%d) = %s', (n, s) => expect(formatDuration(n)).toBe(s));
});

describe('renderPlan', () => {
  const a = spec('a');
  const p = plan(
    desired([spec('a', { memoryBytes: 4 * 1024 ** 3 }), spec('b'), spec('c', { env: { MODE: 'x' } })]),
    observed([container(a), container(spec('c')), container(spec('gone'))]),
  );

  it('uses terraform-style symbols, field-level changes and a summary line', () => {
    const text = renderPlan(p);
    expect(text).toContain('  ~ a will be updated in place');
    expect(text).toContain('      memory: 2g -> 4g');
    expect(text).toContain('  + b will be created');
    expect(text).toContain('-/+ c will be recreated');
    expect(text).toMatch(/env\.MODE: \(none\) -> "x"/);
    expect(text).toContain('  - gone will be removed');
    expect(text.trim().split('\n').pop()).toBe(
      'Plan: 1 to create, 1 to update, 1 to recreate, 1 to remove, 0 to start, 0 to stop, 0 unchanged.',
    );
  });

  it('says so when there is nothing to do', () => {
    const text = renderPlan(plan(desired([a]), observed([container(a)])));
    expect(text).toBe('No changes. Project "demo" is up to date (1 agent(s)).');
  });

  it('renders the same plan as data', () => {
    const json = planToJson(p) as { actions: { kind: string; agent: string; container: string }[] };
    expect(json.actions.map((x) => [x.kind, x.agent, x.container])).toEqual([
      ['update', 'a', 'claude-agent-a'],
      ['create', 'b', 'claude-agent-b'],
      ['recreate', 'c', 'claude-agent-c'],
      ['remove', 'gone', 'claude-agent-gone'],
    ]);
  });
});
