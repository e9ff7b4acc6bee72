/** down --dry-run through the built CLI: it lists what down would do, and the engine and disk are unchanged. */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
import { docker, dockerTry, projectContainers } from '../helpers/docker.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

describe('agentctl down --dry-run (real engine)', () => {
  const projects: TestProject[] = [];
  const foreign: string[] = [];
  afterEach(() => {
    for (const c of foreign.splice(0)) dockerTry('rm', '-f', c);
    for (const p of projects.splice(0)) p.cleanup();
  });

  it('lists the containers and data it would remove, keeps one another container mounts, changes nothing', async () => {
    const p = await appliedProject(projects, 'downdry', 'agents:\n  a: {}\n  b: {}\n');
    const before = projectContainers(p.project);
    expect(before).toEqual([`${p.prefix}a`, `${p.prefix}b`]);
    // A container outside the project mounts b's working directory: down --data would keep it.
    const other = `${p.project}-other`;
    foreign.push(other);
    docker('create', '--name', other, '-v', `${p.workDir('b')}:/x`, 'agentctl-test-busybox:latest', 'true');

    const plain = agentctl(['down', '--dry-run'], { cwd: p.dir });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(
      `would remove ${p.prefix}a\nwould remove ${p.prefix}b\n` +
        `dry run: 2 container(s) of project "${p.project}" would be removed (working directories would be kept; --data deletes them); nothing was changed\n`,
    );

    const data = agentctl(['down', '--dry-run', '--data', '-o', 'json'], { cwd: p.dir });
    expect(data.status).toBe(1); // as down --data would: a directory in use is kept
    const json = JSON.parse(data.stdout) as {
      dryRun: boolean;
      removed: { agent: string; container: string }[];
      removedData: string[];
      keptData: { path: string; reason: string; engine: string }[];
    };
    expect(json.dryRun).toBe(true);
    expect(json.removed.map((r) => r.agent)).toEqual(['a', 'b']);
    expect(json.removedData).toEqual([p.workDir('a')]);
    expect(json.keptData).toEqual([
      { path: p.workDir('b'), reason: `still mounted by container ${other}`, engine: 'local' },
    ]);

    // Nothing changed: same containers, still running, data in place.
    expect(projectContainers(p.project)).toEqual(before);
    expect(docker('inspect', '--format', '{{.State.Running}}', `${p.prefix}a`)).toBe('true');
    expect(existsSync(p.workDir('a'))).toBe(true);
    expect(existsSync(p.workDir('b'))).toBe(true);
  });
});
