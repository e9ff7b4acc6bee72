/**
 * A file cut short at a line boundary still parses and declares a few of the agents: a run that would
 * remove more than half of them needs --allow-mass-prune, in one-shot apply and in watch (which holds the
 * change and keeps the last good state until restarted with the flag). Built CLI, own dockerd.
 */
import { describe, expect, it } from 'vitest';
import { CLI, runAsync } from '../helpers/cli.js';
import { projectPs } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { ownEngineProject } from '../helpers/own-engine.js';
import { agentsBlock } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

const all = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('mass prune guard (own dockerd)', () => {
  const t = ownEngineProject('ac9', 'ac9prune');

  const write = (ids: string[]) => t.p.write(agentsBlock(ids), '  network: none');
  const apply = (...args: string[]) =>
    runAsync(process.execPath, [CLI, 'apply', ...args], {
      cwd: t.p.dir,
      env: { NO_COLOR: '1', ...t.env },
      timeout: 0, // none of its own, as before: the test's limit bounds it
    });
  const agents = () => projectPs(t.p.project, '{{.Label "agentctl.agent"}}', t.engine);

  it('one-shot apply refuses to remove more than half of the agents without --allow-mass-prune', async () => {
    write(all);
    expect((await apply()).status).toBe(0);
    write(['a', 'b']);
    const r = await apply();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("would remove 4 of the project's 6 agents (c, d, e, f)");
    expect(r.stderr).toContain('--allow-mass-prune');
    expect(agents()).toEqual(all);
    // Removing a few is not a mass removal.
    write(['a', 'b', 'c', 'd', 'e']);
    expect((await apply()).status).toBe(0);
    expect(agents()).toEqual(['a', 'b', 'c', 'd', 'e']);
    write(['a', 'b']);
    expect((await apply('--allow-mass-prune')).status).toBe(0);
    expect(agents()).toEqual(['a', 'b']);
  });

  it('watch holds such a change, keeps the last good state, and applies it once restarted with the flag', async () => {
    write(all);
    expect((await apply()).status).toBe(0);
    const w = spawnWatch(['--resync', '600'], { cwd: t.p.dir, env: t.env });
    try {
      await w.waitFor('the first apply', (e) => e.type === 'reconcile');
      write(['a']);
      const held = await w.waitFor('the change held', (e) => e.type === 'config-error');
      expect(JSON.stringify(held)).toContain(
        "holding a change that would remove 5 of the project's 6 agents",
      );
      // The last good state stays in force, for repairs too: a removed agent comes back.
      t.engine.docker('rm', '-f', `${t.p.prefix}f`);
      await eventually('f repaired', () => agents().length === all.length && agents().join() === all.join());
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    const confirmed = spawnWatch(['--resync', '600', '--allow-mass-prune'], { cwd: t.p.dir, env: t.env });
    try {
      await confirmed.waitFor('the first apply', (e) => e.type === 'reconcile');
      expect(agents()).toEqual(['a']);
    } finally {
      confirmed.child.kill('SIGTERM');
      await confirmed.exited;
    }
  });
});
