import { describe, expect, it } from 'vitest';
import { naturalCompare } from '../../src/util/natural-sort.js';

// [a, b, sign of naturalCompare(a, b)]
const cases: [string, string, -1 | 0 | 1][] = [
  ['w-2', 'w-10', -1],
  ['w-10', 'w-2', 1],
  ['w-10', 'w-10', 0],
  ['', '', 0],
  ['', 'a', -1],
  ['a', '', 1],
  ['1', '01', -1], // equal values: fewer zeros first
  ['007', '7', 1],
  ['0', '00', -1],
  ['10', '9', 1],
  ['99999999999999999999999', '100000000000000000000000', -1], // beyond a double's precision
  ['a1', 'a!', -1], // the run `a` is the start of the run `a!`
  ['a!', 'a1', 1],
  ['1', '-', 1], // a digit against anything else: by code unit
  ['1', 'a', -1],
  ['A', 'a', -1], // by code unit, not by locale
  ['w-1', 'w-1a', -1],
  ['w-1a', 'w-1b', -1],
  ['w2x', 'w10', -1],
  ['x', 'x1', -1],
];

describe('naturalCompare', () => {
  it.each(cases)('%j vs %j: %i', (a, b, sign) => {
    expect(Math.sign(naturalCompare(a, b))).toBe(sign);
    expect(Math.sign(naturalCompare(b, a))).toBe(-sign || 0);
  });

  it('sorts numbered names by number', () => {
    const names = ['w-10', 'w-2', 'w-1', 'w-01', 'v-3', 'w-', 'w-100'];
    expect([...names].sort(naturalCompare)).toEqual(['v-3', 'w-', 'w-1', 'w-01', 'w-2', 'w-10', 'w-100']);
  });
});
