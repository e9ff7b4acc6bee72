/** ps -q and ps --state through the built CLI, against agents in different states on the real engine. */
import { afterEach, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
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

    const all = agentctl(['ps', '-q'], { cwd: p.dir });
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toBe('a\nb\nc\n');

    const running = agentctl(['ps', '-q', '--state', 'running'], { cwd: p.dir });
    expect(running.stdout).toBe('a\n');
    expect(agentctl(['ps', '-q', '--state', 'missing'], { cwd: p.dir }).stdout).toBe('c\n');

    const exited = agentctl(['ps', '--state', 'exited', '-o', 'json'], { cwd: p.dir });
    expect((JSON.parse(exited.stdout) as { agent: string }[]).map((r) => r.agent)).toEqual(['b']);

    // Across projects (--project): the same selection.
    const other = agentctl(['ps', '--project', p.project, '--state', 'exited', '-q']);
    expect(other.stdout).toBe('b\n');

    const bad = agentctl(['ps', '--state', 'sleeping'], { cwd: p.dir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--state.*sleeping.*running/s);
  });
});
