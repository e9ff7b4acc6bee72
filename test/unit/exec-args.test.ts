import { describe, expect, it } from 'vitest';
import { splitAtDashDash } from '../../src/cli/commands/exec.js';

describe('exec arguments after the agent', () => {
  it.each([
    ['a plain command', ['ls', '-la'], ['ls', '-la'], {}],
    ['`--` first', ['--', 'ls', '-la'], ['ls', '-la'], {}],
    [
      'our options before `--`',
      ['-f', 'agents.yaml', '--timeout', '5', '-e', 'A=1', '--', 'ls', '-l'],
      ['ls', '-l'],
      { file: 'agents.yaml', timeout: 5, env: ['A=1'] },
    ],
    [
      'a command that contains `--`',
      ['sh', '-c', 'echo "$@"', '--', 'x'],
      ['sh', '-c', 'echo "$@"', '--', 'x'],
      {},
    ],
  ])('%s', (_name, passed, argv, ours) => {
    const split = splitAtDashDash(passed);
    expect(split.argv).toEqual(argv);
    expect(split.ours).toMatchObject(ours);
  });

  it('rejects an option of ours that does not exist', () => {
    expect(() => splitAtDashDash(['--bogus', '--', 'true'])).toThrow(/unknown option/);
  });
});
