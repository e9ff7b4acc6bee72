import { describe, expect, it } from 'vitest';
import { massRemoval } from '../../src/reconcile/mass-prune.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `a${String(i).padStart(2, '0')}`);

describe('mass removal guard', () => {
  const cases: [string, string[], string[], string[] | undefined][] = [
    ['nothing removed', ids(4), ids(4), undefined],
    ['one removed, even of two', ids(2), ids(1), undefined],
    ['exactly half removed', ids(4), ids(2), undefined],
    ['more than half removed', ids(5), ids(2), ['a02', 'a03', 'a04']],
    ['truncated file: 4 of 20 left', ids(20), ids(4), ids(20).slice(4)],
    ['all removed', ids(3), [], ids(3)],
    ['added agents do not count as kept ones', ids(4), ['x', 'y', 'z', 'a00'], ['a01', 'a02', 'a03']],
    ['duplicates in before count once', [...ids(3), ...ids(3)], ids(2), undefined],
  ];
  it.each(cases)('%s', (_name, before, after, removed) => {
    expect(massRemoval(before, after)?.removed).toEqual(removed);
  });
});
