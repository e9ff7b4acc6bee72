/** A file watch refused for an inotify limit is said as that limit; any other error is left as it is. */
import { describe, expect, it } from 'vitest';
import { fileWatchLimitError } from '../../src/errors.js';

const err = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('file watch errors of inotify limits', () => {
  it.each([
    [
      'EMFILE with few files open: the instances',
      err('EMFILE', "EMFILE: too many open files, watch '/d'"),
      { maxUserInstances: 128, nofile: 1024, openFiles: 30 },
      /^cannot watch \/d\/agents\.yaml: the kernel refused an inotify instance: this user's instances are all taken \(fs\.inotify\.max_user_instances is 128; every program watching files holds one\)\. Raise it \(sysctl -w fs\.inotify\.max_user_instances=1024\) or stop watchers you do not need \(EMFILE: too many open files, watch '\/d'\)$/,
    ],
    [
      'EMFILE with the open files at their limit: either',
      err('EMFILE', 'EMFILE: too many open files'),
      { maxUserInstances: 128, nofile: 1024, openFiles: 1024 },
      /instances are all taken \(.*\), or this process's open files are at their limit \(1024\)\. Raise/,
    ],
    [
      'ENOSPC: the watches',
      err('ENOSPC', 'ENOSPC: System limit for number of file watchers reached'),
      { maxUserWatches: 8192 },
      /^cannot watch \/d\/agents\.yaml: the kernel refused an inotify watch: this user's watches are all taken \(fs\.inotify\.max_user_watches is 8192;.*\(ENOSPC: System limit/,
    ],
  ])('%s', (_, e, limits, expected) => {
    const got = fileWatchLimitError('/d/agents.yaml', e, limits);
    expect(got?.kind).toBe('preflight');
    expect(got?.message).toMatch(expected);
  });

  it('leaves other errors alone', () => {
    expect(
      fileWatchLimitError('/d/agents.yaml', err('EACCES', 'EACCES: permission denied'), {}),
    ).toBeUndefined();
  });
});
