/**
 * Two projects on one engine whose agents get the same container name (the same namePrefix, here as the
 * default `claude-agent-` would give them): the second is refused, naming the project that owns the name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { inspect } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('a container name held by another project', () => {
  const projects: TestProject[] = [];
  afterAll(() => projects.forEach((p) => p.cleanup()));

  it('is refused by apply and shown by diff, naming the owning project and agent', async () => {
    const first = testProject('clash1');
    const second = testProject('clash2');
    projects.push(first, second);
    first.write('agents:\n  x: {}', '  network: none');
    // The second project reuses the first's prefix, as two projects on the default prefix do.
    second.write('agents:\n  x: {}', '  network: none');
    const text = readFileSync(second.file, 'utf8');
    writeFileSync(second.file, text.replace(`namePrefix: ${second.prefix}`, `namePrefix: ${first.prefix}`));
    expect((await agentctlAsync(['apply'], { cwd: first.dir })).status).toBe(0);
    const id = inspect(`${first.prefix}x`).Id;

    const apply = await agentctlAsync(['apply'], { cwd: second.dir });
    expect(apply.status).toBe(1);
    const owner = new RegExp(
      `"${first.prefix}x" is taken by container ${id.slice(0, 12)}, agent "x" of another agentctl project, "${first.project}"`,
    );
    expect(apply.stderr).toMatch(owner);
    expect(apply.stderr).not.toMatch(/not an agentctl agent|does not manage/);
    const diff = await agentctlAsync(['diff'], { cwd: second.dir });
    expect(diff.stdout).toMatch(owner);
    // The first project's agent was left alone.
    expect(inspect(`${first.prefix}x`).Id).toBe(id);
  });
});
