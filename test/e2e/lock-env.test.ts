/**
 * One project, one lock, whatever the environment: a watcher started with one TMPDIR holds the project's
 * lock, and a one-shot apply started with another TMPDIR must see it and refuse (both use the default
 * lock directory, as users' runs do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

describe('the project lock ignores TMPDIR', () => {
  const temps = [1, 2].map((n) => mkdtempSync(path.join(os.tmpdir(), `ac9-tmp${n}-`)));
  let p: TestProject | undefined;
  afterAll(() => {
    p?.cleanup();
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });

  it('a watcher with one TMPDIR keeps out an apply with another', async () => {
    p = testProject('ac9lock');
    p.write('agents:\n  a: {}', '  network: none');
    const env = { AGENTCTL_LOCK_DIR: undefined };
    const w = spawnWatch(['--resync', '600'], { cwd: p.dir, env: { ...env, TMPDIR: temps[0] } });
    try {
      await w.waitFor('the first apply', (e) => e.type === 'reconcile');
      const r = agentctl(['apply'], { cwd: p.dir, env: { ...env, TMPDIR: temps[1] } });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`project "${p.project}" is locked by pid ${w.pid}`);
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    // Released when the watcher stopped: the next run gets it.
    expect(agentctl(['apply'], { cwd: p.dir, env: { ...env, TMPDIR: temps[1] } }).status).toBe(0);
  });
});
