/** ps -q, ps --state and ps --format through the built CLI, against agents in different states on the real engine. */
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

describe('agentctl ps -q and --state (real engine)', () => {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
  });

  it('selects agents by state and prints only their ids with -q, in a file and across projects', async () => {
    const p = await appliedProject(projects, 'psq', 'agents:\n  a: {}\n  b: {}\n  c: {}\n');
    docker('stop', '-t', '0', `${p.prefix}b`);
    // c is declared again but its container is gone: state `missing`.
    docker('rm', '-f', `${p.prefix}c`);

    const all = await agentctlAsync(['ps', '-q'], { cwd: p.dir });
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toBe('a\nb\nc\n');

    const running = await agentctlAsync(['ps', '-q', '--state', 'running'], { cwd: p.dir });
    expect(running.stdout).toBe('a\n');
    expect((await agentctlAsync(['ps', '-q', '--state', 'missing'], { cwd: p.dir })).stdout).toBe('c\n');

    const exited = await agentctlAsync(['ps', '--state', 'exited', '-o', 'json'], { cwd: p.dir });
    expect((JSON.parse(exited.stdout) as { agent: string }[]).map((r) => r.agent)).toEqual(['b']);

    // Across projects (--project): the same selection.
    const other = await agentctlAsync(['ps', '--project', p.project, '--state', 'exited', '-q']);
    expect(other.stdout).toBe('b\n');

    const bad = await agentctlAsync(['ps', '--state', 'sleeping'], { cwd: p.dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--state.*sleeping.*running/s);
  });

  it('--format prints each selected agent through a template; table adds a header; a typo lists the fields', async () => {
    const p = await appliedProject(projects, 'psfmt', 'agents:\n  a: {}\n  b: {}\n');
    docker('stop', '-t', '0', `${p.prefix}b`);
    const ids = await agentctlAsync(['ps', '--format', '{{.ID}}'], { cwd: p.dir });
    expect(ids.status, ids.stderr).toBe(0);
    // The same as -q, for the same selection.
    expect(ids.stdout).toBe((await agentctlAsync(['ps', '-q'], { cwd: p.dir })).stdout);
    expect((await agentctlAsync(['ps', '--format', '{{.ID}}\\t{{ .State }}'], { cwd: p.dir })).stdout).toBe(
      'a\trunning\nb\texited\n',
    );
    expect(
      (await agentctlAsync(['ps', '--state', 'exited', '--format', '{{.Container}}'], { cwd: p.dir })).stdout,
    ).toBe(`${p.prefix}b\n`);
    const table = await agentctlAsync(['ps', '--format', 'table {{.ID}}\\t{{.State}}\\t{{.Project}}'], {
      cwd: p.dir,
    });
    expect(table.stdout.split('\n')[0]).toMatch(/^AGENT +STATE +PROJECT$/);
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^a +running +${p.project}$`));
    const json = await agentctlAsync(['ps', '--state', 'running', '--format', '{{json .}}'], { cwd: p.dir });
    expect(JSON.parse(json.stdout)).toMatchObject({ agent: 'a', state: 'running', project: p.project });
    // Across projects: the same fields.
    expect(
      (await agentctlAsync(['ps', '--project', p.project, '--format', '{{.Project}}/{{.ID}}'])).stdout,
    ).toBe(`${p.project}/a\n${p.project}/b\n`);

    const bad = await agentctlAsync(['ps', '--format', '{{.Stat}}'], { cwd: p.dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown field "{{.Stat}}"; did you mean "{{.State}}"?');
    expect(bad.stderr).toContain('fields: .ID, .Agent, .Project');
    expect((await agentctlAsync(['ps', '-q', '--format', '{{.ID}}'], { cwd: p.dir })).stderr).toContain(
      '--format cannot be combined with -q',
    );
  });
});
