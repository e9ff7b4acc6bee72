import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  AGENT_FIELDS_WITHOUT_FLAG,
  AGENT_FLAGS,
  agentFieldsOf,
  agentFlagOption,
} from '../../src/cli/agent-flags.js';
import { parseEnv } from '../../src/cli/env-flags.js';

const schema = JSON.parse(readFileSync(path.resolve('schemas/agents.schema.json'), 'utf8')) as {
  definitions: { agent: { properties: Record<string, unknown> } };
};

/** Parses `args` as `run` would, returning the agent fields the flags set. */
function fieldsOf(args: string[]) {
  const cmd = new Command('run').exitOverride();
  for (const f of AGENT_FLAGS) cmd.addOption(agentFlagOption(f));
  cmd.parse(args, { from: 'user' });
  return agentFieldsOf(cmd.opts(), (k) => cmd.getOptionValueSource(k) === 'cli');
}

describe('run: agent fields as flags', () => {
  it('every field of the schema has a flag or a reason not to, and no flag names a field the schema lacks', () => {
    const fields = Object.keys(schema.definitions.agent.properties).sort();
    const covered = [...AGENT_FLAGS.map((f) => f.field), ...Object.keys(AGENT_FIELDS_WITHOUT_FLAG)];
    expect([...new Set(covered)].sort()).toEqual(fields);
  });

  const cases: [string, string[], Record<string, unknown>][] = [
    ['nothing given: nothing set (the file defaults apply)', [], {}],
    [
      'scalars',
      ['--image', 'x:1', '--memory', '4g', '--cpus', '0.5', '--pids', '64'],
      { image: 'x:1', memory: '4g', cpus: 0.5, pids: 64 },
    ],
    ['user and network', ['-u', '1000:1000', '--network', 'none'], { user: '1000:1000', network: 'none' }],
    [
      'negations',
      ['--no-read-only', '--no-init', '--no-no-new-privileges'],
      { readOnly: false, init: false, noNewPrivileges: false },
    ],
    [
      'repeatable maps',
      ['-e', 'A=1', '-e', 'B=x=y', '-l', 'team=a', '--tmpfs', '/s=10m'],
      { env: { A: '1', B: 'x=y' }, labels: { team: 'a' }, tmpfs: { '/s': '10m' } },
    ],
    [
      'ulimits',
      ['--ulimit', 'nofile=100:200', '--ulimit', 'core=0'],
      { ulimits: { nofile: { soft: 100, hard: 200 }, core: { soft: 0, hard: 0 } } },
    ],
    ['capabilities', ['--cap-add', 'NET_BIND_SERVICE'], { capabilities: { add: ['NET_BIND_SERVICE'] } }],
    [
      'restart, runtime, egress',
      ['--restart', 'no', '--runtime', 'runsc', '--egress', 'none'],
      { restart: 'no', runtime: 'runsc', egress: 'none' },
    ],
  ];
  it.each(cases)('%s', (_name, args, fields) => {
    expect(fieldsOf(args)).toEqual(fields);
  });

  it.each([
    [['--cpus', 'two'], /--cpus must be a number/],
    [['-l', 'novalue'], /--label takes NAME=VALUE/],
    [['--ulimit', 'nofile=a:b'], /--ulimit must be a number/],
  ])('%j is a usage error', (args, message) => {
    expect(() => fieldsOf(args)).toThrow(message);
  });
});

describe("-e KEY passes the caller's KEY through, as docker does", () => {
  const cases: [string, string[], Record<string, string>][] = [
    ['KEY=VALUE', ['A=1'], { A: '1' }],
    ['KEY set in the caller', ['HOME_I8'], { HOME_I8: '/home/x' }],
    ['KEY set empty in the caller', ['EMPTY_I8'], { EMPTY_I8: '' }],
    ['KEY unset in the caller: not passed', ['UNSET_I8'], {}],
    ['KEY= sets it empty', ['UNSET_I8='], { UNSET_I8: '' }],
  ];
  it.each(cases)('%s', (_name, entries, env) => {
    expect(parseEnv(entries, { HOME_I8: '/home/x', EMPTY_I8: '' })).toEqual(env);
  });
});
