/**
 * start/stop/restart/rm while `apply --watch` runs for the project: a change the watcher would undo a
 * second later is refused, naming the watcher's pid, unless --force (then it is done with a warning,
 * and undone). The world is read back with the docker CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctlAsync } from '../helpers/cli.js';
import { inspect } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

describe('lifecycle commands under a running watcher', () => {
  const locks = mkdtempSync(path.join(os.tmpdir(), 'agentctl-guard-locks-'));
  const env = { AGENTCTL_LOCK_DIR: locks };
  const p = testProject('wguard');
  afterAll(() => {
    p.cleanup();
    rmSync(locks, { recursive: true, force: true });
  });
  const running = (id: string) => inspect(`${p.prefix}${id}`).State.Running === true;

  it('refuses what the watcher would undo, says who; --force does it with a warning; rm is locked', async () => {
    p.write('agents:\n  up: { restart: "no" }\n  down: { state: stopped }', '  network: none');
    const w = spawnWatch(['--resync', '600'], { cwd: p.dir, env });
    try {
      await w.waitFor('the first apply', (e) => e.type === 'reconcile');
      const run = (...args: string[]) => agentctlAsync(args, { cwd: p.dir, env });

      const stop = await run('stop', 'up');
      expect(stop.status).toBe(1);
      expect(stop.stderr).toMatch(
        new RegExp(
          `watched by pid ${w.pid} \\(agentctl apply --watch.*it would start up again within a second`,
        ),
      );
      expect(stop.stderr).toMatch(/set `state: stopped` in that file .*\(pass --force to do it anyway\)/);
      expect(running('up')).toBe(true);
      const json = await run('stop', 'up', '-o', 'json');
      expect(JSON.parse(json.stdout).error).toMatchObject({ kind: 'locked', optIn: 'force' });

      // Starting an agent the file keeps stopped is undone too; restarting a running one is not.
      const start = await run('start', 'down');
      expect(start.status).toBe(1);
      expect(start.stderr).toMatch(/it would stop down again/);
      expect(running('down')).toBe(false);
      expect((await run('restart', 'up')).status).toBe(0);

      const forced = await run('stop', '--force', 'up');
      expect(forced.status).toBe(0);
      expect(forced.stderr).toMatch(
        new RegExp(`warning: up \\(.*\\): watcher pid ${w.pid} .* will start it again`),
      );
      await eventually('up started again by the watcher', () => running('up'));

      const rm = await run('rm', 'up');
      expect(rm.status).toBe(1);
      expect(rm.stderr).toMatch(new RegExp(`locked by pid ${w.pid} \\(agentctl apply --watch`));
      expect(running('up')).toBe(true);
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    // No watcher, no refusal.
    expect((await agentctlAsync(['stop', 'up'], { cwd: p.dir, env })).status).toBe(0);
    expect(running('up')).toBe(false);
  });
});
