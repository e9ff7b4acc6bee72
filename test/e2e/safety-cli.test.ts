/** down --data and cleanup through the built binary: what they keep, what they say, their exit codes. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { docker, dockerTry, projectContainers, TEST_IMAGE } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';

describe('agentctl down --data and cleanup keep data in use or declared (real engine)', () => {
  let p: TestProject | undefined;
  const extra: string[] = [];
  afterEach(() => {
    for (const name of extra.splice(0)) dockerTry('rm', '-f', name);
    p?.cleanup();
    p = undefined;
  });

  async function applied(tag: string, agents: string): Promise<TestProject> {
    const t = testProject(tag);
    p = t;
    t.write(agents, '  network: none');
    const r = await agentctlAsync(['apply'], { cwd: t.dir });
    expect(r.status).toBe(0);
    return t;
  }

  it('down --data names a directory another container mounts, keeps it and exits 1', async () => {
    const t = await applied('cdown', 'agents:\n  a: {}\n  b: {}');
    writeFileSync(path.join(t.workDir('a'), 'precious'), 'x');
    const name = `agentctl-test-mounter-${randomBytes(4).toString('hex')}`;
    extra.push(name);
    docker('create', '--name', name, '--network', 'none', '-v', `${t.workDir('a')}:/data`, TEST_IMAGE);

    const r = await agentctlAsync(['down', '--data'], { cwd: t.dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `agentctl: kept ${t.workDir('a')}: still mounted by container ${name}; not deleting it\n`,
    );
    expect(r.stdout).toContain(`deleted ${t.workDir('b')}\n`);
    expect(projectContainers(t.project)).toEqual([]);
    expect(existsSync(path.join(t.workDir('a'), 'precious'))).toBe(true);
    expect(existsSync(t.workDir('b'))).toBe(false);
  });

  it("cleanup without -f keeps the data of the agents declared in ./agents.yaml, and takes its project's lock", async () => {
    const t = await applied('cdecl', 'agents:\n  a: {}');
    writeFileSync(path.join(t.workDir('a'), 'precious'), 'x');
    expect((await agentctlAsync(['down'], { cwd: t.dir })).status).toBe(0);
    const orphan = path.join(t.dir, 'runtime', 'agent-working-directory', 'orphan');
    mkdirSync(orphan);
    const old = new Date(Date.now() - 86_400_000);
    for (const d of [t.workDir('a'), orphan]) utimesSync(d, old, old);
    // --project keeps the containers it may touch to this test's (none are left).
    const args = ['cleanup', '--older-than', '1h', '--project', t.project, '--runtime-dir', 'runtime'];

    // While another run holds the file's project, cleanup does not delete its directories, even when
    // its --project is another one (here one without containers, so nothing else is touched).
    const other = `none-${randomBytes(4).toString('hex')}`;
    const lockDir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-locks-'));
    try {
      writeFileSync(
        path.join(lockDir, `${t.project}.lock`),
        JSON.stringify({ pid: process.pid, command: 'apply --watch', since: 'now' }),
      );
      const locked = await agentctlAsync(
        args.map((x) => (x === t.project ? other : x)),
        {
          cwd: t.dir,
          env: { AGENTCTL_LOCK_DIR: lockDir },
        },
      );
      expect(locked.status).toBe(1);
      expect(locked.stderr).toMatch(new RegExp(`project "${t.project}" is locked by pid ${process.pid}`));
      expect(existsSync(orphan)).toBe(true);
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }

    const r = await agentctlAsync(args, { cwd: t.dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`deleted ${orphan} (`);
    expect(r.stdout).toMatch(/^Freed .* 0 container\(s\), 1 working directory$/m);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(path.join(t.workDir('a'), 'precious'))).toBe(true);
  });
});
