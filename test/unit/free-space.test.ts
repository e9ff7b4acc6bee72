/** The disk minimums (flags over environment over defaults) and the pressure levels, as tables. */
import { describe, expect, it } from 'vitest';
import { freeSpaceMinimum, pressureLevel } from '../../src/reconcile/free-space.js';

const MiB = 1024 ** 2;

describe('freeSpaceMinimum', () => {
  it.each([
    [{}, {}, { bytes: 100 * MiB, inodes: 1000, bytesFrom: 'AGENTCTL_MIN_FREE' }],
    [{ AGENTCTL_MIN_FREE: '1m', AGENTCTL_MIN_FREE_INODES: '5' }, {}, { bytes: MiB, inodes: 5 }],
    [{ AGENTCTL_MIN_FREE: '1m' }, { minFree: '2g' }, { bytes: 2048 * MiB, bytesFrom: '--min-free' }],
    [
      { AGENTCTL_MIN_FREE_INODES: '5' },
      { minFreeInodes: '0' },
      { inodes: 0, inodesFrom: '--min-free-inodes' },
    ],
    [{}, { minFree: '0' }, { bytes: 0 }],
  ] as const)('env %j, flags %j -> %j', (env, flags, want) => {
    expect(freeSpaceMinimum(env, flags)).toMatchObject(want);
  });

  it.each([
    [{}, { minFree: 'lots' }, '--min-free must be a size (e.g. 100m, 0 for none), got "lots"'],
    [{ AGENTCTL_MIN_FREE: 'x' }, {}, 'AGENTCTL_MIN_FREE must be a size'],
    [{}, { minFreeInodes: '-1' }, '--min-free-inodes must be a whole number (0 for none), got "-1"'],
    [{ AGENTCTL_MIN_FREE_INODES: '1.5' }, {}, 'AGENTCTL_MIN_FREE_INODES must be a whole number'],
  ] as const)('env %j, flags %j is a usage error: %s', (env, flags, message) => {
    expect(() => freeSpaceMinimum(env, flags)).toThrow(message);
  });
});

describe('pressureLevel', () => {
  const min = { bytes: 100 * MiB, inodes: 1000 };
  it.each([
    [{ bytes: 500 * MiB, inodes: 5000 }, 'ok'],
    [{ bytes: 200 * MiB, inodes: 2000 }, 'ok'],
    [{ bytes: 150 * MiB, inodes: 5000 }, 'low'],
    [{ bytes: 500 * MiB, inodes: 1999 }, 'low'],
    [{ bytes: 99 * MiB, inodes: 5000 }, 'short'],
    [{ bytes: 500 * MiB, inodes: 10 }, 'short'],
    // No inode accounting (btrfs and the like): bytes alone decide.
    [{ bytes: 500 * MiB, inodes: null }, 'ok'],
    [{ bytes: 0, inodes: null }, 'short'],
  ] as const)('%j -> %s', (free, level) => {
    expect(pressureLevel(free, min)).toBe(level);
  });

  it('a minimum of 0 is never short', () => {
    expect(pressureLevel({ bytes: 0, inodes: 0 }, { bytes: 0, inodes: 0 })).toBe('ok');
  });
});
