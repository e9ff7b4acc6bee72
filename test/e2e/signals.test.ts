/**
 * Signals with the built CLI, sent for real: a second SIGTERM to a stopping watcher exits 143 (a second
 * SIGINT 130), and an apply --wait interrupted while it waits for another run's lock says that nothing
 * was done and exits 130 or 143, changing nothing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStart } from '../../src/util/process-start.js';
import { agentctl, CLI } from '../helpers/cli.js';
import { projectContainers } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch } from '../helpers/watch-process.js';

const projects: TestProject[] = [];
afterAll(() => {
  for (const p of projects) p.cleanup();
});

function project(tag: string): { p: TestProject; env: Record<string, string> } {
  const p = testProject(tag);
  projects.push(p);
  return { p, env: { AGENTCTL_LOCK_DIR: path.join(p.dir, 'locks') } };
}

describe('a second signal to a stopping watcher', () => {
  // An agent that ignores SIGTERM: its graceful stop lasts the whole grace period, so the watcher's
  // recreate of it (and so its stop) is still in flight when the second signal comes.
  const stubborn = (mode: string) =>
    `agents:\n  stubborn:\n    command: [sh, -c, "trap '' TERM; while :; do sleep 1; done"]\n    env: { MODE: ${mode} }`;

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s twice exits %i at once', async (signal, code) => {
    const { p, env } = project('ac9sig2');
    p.write(stubborn('one'), '  network: none');
    const first = agentctl(['apply', '--wait-ready', '0'], { cwd: p.dir, env });
    expect(first.status, first.stderr).toBe(0);
    p.write(stubborn('two'), '  network: none');
    const w = spawnWatch(['-t', '60'], { cwd: p.dir, env });
    await w.waitFor('watching', (e) => e.type === 'watching');
    // The recreate is under way (its old container takes 60 s to stop): the first signal waits for it.
    await new Promise((r) => setTimeout(r, 1500));
    w.child.kill(signal);
    await w.waitFor('stopping', (e) => e.type === 'stopping');
    expect(w.events.some((e) => e.type === 'stopped')).toBe(false);
    const sent = Date.now();
    w.child.kill(signal);
    const exit = await w.exited;
    expect(exit.code, w.stderr()).toBe(code);
    // At once: long before the 60 s grace period the graceful stop was waiting out.
    expect(Date.now() - sent).toBeLessThan(20_000);
    expect(w.events.some((e) => e.type === 'stopped')).toBe(false);
  });
});

describe('apply --wait interrupted while it waits for the lock', () => {
  /** A lock held by a live process (this test's), as another run's would be. */
  function holdLock(p: TestProject, env: Record<string, string>): string {
    const dir = env.AGENTCTL_LOCK_DIR ?? '';
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${p.project}.lock`);
    const holder = {
      pid: process.pid,
      start: processStart(process.pid),
      command: 'apply --watch',
      since: new Date().toISOString(),
    };
    writeFileSync(file, JSON.stringify(holder), { mode: 0o600 });
    return file;
  }

  async function interruptedWait(signal: NodeJS.Signals, extra: string[] = []) {
    const { p, env } = project('ac9wait');
    p.write('agents:\n  a: {}', '  network: none');
    const lock = holdLock(p, env);
    const before = readFileSync(lock, 'utf8');
    const child = spawn(process.execPath, [CLI, 'apply', '--wait', '120', ...extra], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await eventually('waiting for the lock', () => stderr.includes('waiting for the project lock'), 60_000);
    const sent = Date.now();
    child.kill(signal);
    const code = await exited;
    return {
      p,
      code,
      stdout,
      stderr,
      tookMs: Date.now() - sent,
      lockKept: readFileSync(lock, 'utf8') === before,
    };
  }

  it('SIGINT: says nothing was done, exits 130, creates nothing and leaves the holder its lock', async () => {
    const r = await interruptedWait('SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      new RegExp(`SIGINT while waiting for the project lock held by pid ${process.pid} .*: nothing was done`),
    );
    // The wait ends at the signal, not at --wait's 120 s.
    expect(r.tookMs).toBeLessThan(20_000);
    expect(projectContainers(r.p.project)).toEqual([]);
    expect(r.lockKept).toBe(true);
  });

  it('SIGTERM exits 143; -o json prints the error document', async () => {
    const r = await interruptedWait('SIGTERM', ['-o', 'json']);
    expect(r.code, r.stderr).toBe(143);
    const doc = JSON.parse(r.stdout) as { error: { kind: string; exitCode: number; message: string } };
    expect(doc.error).toMatchObject({ kind: 'interrupted', exitCode: 143 });
    expect(doc.error.message).toMatch(/^SIGTERM while waiting for the project lock.*nothing was done$/);
    expect(projectContainers(r.p.project)).toEqual([]);
  });
});
