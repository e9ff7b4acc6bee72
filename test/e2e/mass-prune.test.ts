/**
 * A file cut short at a line boundary still parses and declares a few of the agents: a run that would
 * remove more than half of them needs --allow-mass-prune, in one-shot apply and in watch (which holds the
 * change and keeps the last good state until restarted with the flag). Built CLI, own dockerd.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';
import { spawnWatch } from '../helpers/watch-process.js';

const all = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('mass prune guard (own dockerd)', () => {
  let engine: TestDockerd;
  let p: TestProject;
  let env: Record<string, string>;

  beforeAll(async () => {
    engine = testDockerd('ac9');
    await engine.start();
    engine.loadTestImage();
    p = testProject('ac9prune');
    env = { DOCKER_HOST: engine.host, AGENTCTL_LOCK_DIR: path.join(engine.root, 'locks') };
  });
  afterAll(async () => {
    await engine?.cleanup();
    p?.cleanup();
  });

  const write = (ids: string[]) =>
    p.write(`agents:\n${ids.map((id) => `  ${id}: {}`).join('\n')}`, '  network: none');
  const apply = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'apply', ...args], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      encoding: 'utf8',
    });
  const agents = () =>
    engine
      .docker(
        'ps',
        '-a',
        '--filter',
        `label=agentctl.project=${p.project}`,
        '--format',
        '{{.Label "agentctl.agent"}}',
      )
      .split('\n')
      .filter(Boolean)
      .sort();

  it('one-shot apply refuses to remove more than half of the agents without --allow-mass-prune', () => {
    write(all);
    expect(apply().status).toBe(0);
    write(['a', 'b']);
    const r = apply();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("would remove 4 of the project's 6 agents (c, d, e, f)");
    expect(r.stderr).toContain('--allow-mass-prune');
    expect(agents()).toEqual(all);
    // Removing a few is not a mass removal.
    write(['a', 'b', 'c', 'd', 'e']);
    expect(apply().status).toBe(0);
    expect(agents()).toEqual(['a', 'b', 'c', 'd', 'e']);
    write(['a', 'b']);
    expect(apply('--allow-mass-prune').status).toBe(0);
    expect(agents()).toEqual(['a', 'b']);
  });

  it('watch holds such a change, keeps the last good state, and applies it once restarted with the flag', async () => {
    write(all);
    expect(apply().status).toBe(0);
    const w = spawnWatch(['--resync', '600'], { cwd: p.dir, env });
    try {
      await w.waitFor('the first apply', (e) => e.type === 'reconcile');
      write(['a']);
      const held = await w.waitFor('the change held', (e) => e.type === 'config-error');
      expect(JSON.stringify(held)).toContain(
        "holding a change that would remove 5 of the project's 6 agents",
      );
      // The last good state stays in force, for repairs too: a removed agent comes back.
      engine.docker('rm', '-f', `${p.prefix}f`);
      await eventually('f repaired', () => agents().length === all.length && agents().join() === all.join());
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    const confirmed = spawnWatch(['--resync', '600', '--allow-mass-prune'], { cwd: p.dir, env });
    try {
      await confirmed.waitFor('the first apply', (e) => e.type === 'reconcile');
      expect(agents()).toEqual(['a']);
    } finally {
      confirmed.child.kill('SIGTERM');
      await confirmed.exited;
    }
  });
});
