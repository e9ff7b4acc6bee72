/**
 * A dockerd started with a low open-files limit (as one started from a shell inherits 1024 or 4096), on a
 * test engine of its own: `diff` and `apply` find it among this host's processes by its socket, read its
 * descriptors and limit, and warn before starting agents that would take it past the limit, naming the
 * figures; agents that fit draw no warning.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { agentsBlock, type TestProject, testProject } from '../helpers/project.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';

const LIMIT = 400;
const ids = (n: number) => Array.from({ length: n }, (_, i) => `a${i + 1}`);

describe('an engine with a low open-files limit (its own dockerd, built binary)', () => {
  let engine: TestDockerd | undefined;
  let p: TestProject | undefined;
  beforeAll(async () => {
    engine = testDockerd('fdlow', { openFiles: LIMIT });
    await engine.start();
    await engine.loadTestImage();
    p = testProject('fdlow');
  }, 180_000);
  afterAll(async () => {
    await engine?.cleanup();
    p?.cleanup();
  });

  const env = () => ({
    DOCKER_HOST: engine?.host ?? '',
    AGENTCTL_LOCK_DIR: path.join(engine?.root ?? '', 'locks'),
  });
  const warning =
    /warning: engine descriptors: dockerd \(pid (\d+)\) has (\d+) files open of its limit (\d+); about (\d+) after starting (\d+) agent\(s\) \(7 each\)/;

  it('diff and apply warn before starting agents that would take dockerd past its limit', async () => {
    const project = p as TestProject;
    project.write(agentsBlock(ids(60)), '  network: none');
    const d = await agentctlAsync(['diff'], { cwd: project.dir, env: env() });
    const m = warning.exec(d.stdout + d.stderr);
    expect(m, d.stdout + d.stderr).not.toBeNull();
    const [, pid, open, limit, after, starting] = (m as RegExpExecArray).map(Number);
    // The test's own dockerd, with the limit it was started with, as /proc has them.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(engine?.root);
    expect(limit).toBe(LIMIT);
    expect(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1]).toBe(
      String(LIMIT),
    );
    expect(open).toBeGreaterThan(0);
    expect(starting).toBe(60);
    expect(after).toBe((open as number) + 60 * 7);
  });

  it("warns that agents asking for more open files than the engine's hard limit will not start", async () => {
    const project = p as TestProject;
    // The default nofile is 1024/2048: above the 400 this engine (and so runc) may raise a limit to.
    project.write(agentsBlock(ids(2)), '  network: none');
    const d = await agentctlAsync(['diff'], { cwd: project.dir, env: env() });
    expect(d.stdout + d.stderr).toMatch(
      /warning: engine open-files limit: 2 agent\(s\) \(a1, a2\) ask for nofile up to 2048, above the hard limit 400 that containerd \(pid \d+\) starts them under/,
    );
    // What the warning says would happen does: the engine cannot start them.
    const a = await agentctlAsync(['apply', '--wait-ready', '0'], { cwd: project.dir, env: env() });
    expect(a.status).toBe(1);
    expect(a.stdout + a.stderr).toMatch(/error setting rlimit type 7: operation not permitted/);
  });

  it('agents that fit apply without either warning', async () => {
    const project = p as TestProject;
    project.write(agentsBlock(ids(2)), '  network: none\n  ulimits: { nofile: 256 }');
    const a = await agentctlAsync(['apply'], { cwd: project.dir, env: env() });
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout + a.stderr).not.toMatch(/engine descriptors|engine open-files limit/);
    expect(
      engine
        ?.docker('ps', '--filter', `label=agentctl.project=${project.project}`, '--format', '{{.Names}}')
        .split('\n')
        .sort(),
    ).toEqual([`${project.prefix}a1`, `${project.prefix}a2`]);
  });
});
