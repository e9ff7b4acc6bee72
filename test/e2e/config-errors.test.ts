/** The built binary on files a newcomer gets wrong: every command that reads the file refuses them. */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('a file that declares nothing', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it.each([
    ['empty', ''],
    ['comment-only', '# yaml-language-server: $schema=../schemas/agents.schema.json\n# todo\n'],
  ])(
    'an %s file is refused by validate, diff and apply at file:1:1, and the fleet is kept',
    async (_, text) => {
      p = testProject('empty8');
      p.write('agents:\n  a: {}', '  network: none');
      expect((await agentctlAsync(['apply'], { cwd: p.dir })).status).toBe(0);
      writeFileSync(p.file, text);
      for (const command of ['validate', 'diff', 'apply']) {
        const r = await agentctlAsync([command, '-f', p.file], { cwd: p.dir });
        expect(r.status, `${command}: ${r.stderr}`).toBe(1);
        expect(r.stderr.split('\n')[0]).toBe(
          `${p.file}:1:1: the file is empty (or holds only comments): an agents file needs "version: 1" and "agents:" (write "agents: {}" for a fleet with no agents)`,
        );
      }
      expect(projectContainers(p.project)).toEqual([`${p.prefix}a`]);
    },
  );
});

describe('validate names what is wrong', () => {
  let p: TestProject | undefined;
  afterEach(() => p?.cleanup());

  it.each([
    [
      'a duplicate agent key with its full name',
      'agents:\n  uploader: {}\n  uploader: {}',
      /:12:3: duplicate key "uploader"/,
    ],
    [
      'a misspelt field with a suggestion',
      'agents:\n  a: { memroy: 1g }',
      /:11:8: agents\.a: unknown field "memroy"; did you mean "memory"\?/,
    ],
    [
      'cpu for cpus',
      'agents:\n  a: { cpu: 1 }',
      /:11:8: agents\.a: unknown field "cpu"; did you mean "cpus"\?/,
    ],
    [
      'replica for replicas',
      'agents:\n  a: { replica: 2 }',
      /:11:8: agents\.a: unknown field "replica"; did you mean "replicas"\?/,
    ],
    [
      'an invalid image reference',
      'agents:\n  a: { image: "${IMG:-x}" }',
      /:11:15: agents\.a\.image: invalid image reference "\$\{IMG:-x\}"/,
    ],
  ])('%s', async (_, agents, expected) => {
    p = testProject('val8');
    p.write(agents);
    const r = await agentctlAsync(['validate'], { cwd: p.dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${p.file.replace(/[.]/g, '\\.')}${expected.source}`, 'm'));
  });
});
