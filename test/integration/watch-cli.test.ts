/**
 * `agentctl apply --watch` as a process: signals, the lock, and the JSON log a log shipper reads.
 * The world is read back with the docker CLI; the log is only trusted for what only it can tell (which
 * repairs were attempted, and when).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/watch/events.js';
import { spawn } from 'node:child_process';
import { agentctl, CLI } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { exists, inspect, projectContainers } from '../helpers/docker.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch, type WatchProcess } from '../helpers/watch-process.js';

type Reconcile = Extract<WatchEvent, { type: 'reconcile' }>;
const isReconcile = (e: WatchEvent): e is Reconcile => e.type === 'reconcile';

describe('agentctl apply --watch (process)', () => {
  const projects: TestProject[] = [];
  const children: WatchProcess[] = [];
  const locks = mkdtempSync(path.join(os.tmpdir(), 'agentctl-watch-locks-'));
  const env = { AGENTCTL_LOCK_DIR: locks };
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) {
        c.child.kill('SIGKILL');
        await c.exited;
      }
    }
    for (const p of projects.splice(0)) p.cleanup();
  });
  afterAll(() => rmSync(locks, { recursive: true, force: true }));

  const project = (tag: string) => {
    const p = testProject(tag);
    projects.push(p);
    return p;
  };
  const start = (p: TestProject) => {
    const w = spawnWatch([], { cwd: p.dir, env });
    children.push(w);
    return w;
  };
  const running = (name: string) => exists(name) && inspect(name).State.Running === true;

  it('on SIGTERM finishes the apply in flight, releases the lock, exits 0 and leaves the agents running', async () => {
    const p = project('wterm');
    p.write('agents:\n  a: {}\n  b: {}\n  c: {}');
    const w = start(p);
    // Sent while the first apply is in flight: it is finished, not abandoned half-way.
    await w.waitFor('watching', (e) => e.type === 'watching');
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const names = ['a', 'b', 'c'].map((id) => `${p.prefix}${id}`);
    expect(projectContainers(p.project)).toEqual(names);
    expect(names.every(running)).toBe(true);
    expect(existsSync(path.join(locks, `${p.project}.lock`))).toBe(false);
    expect(w.notJson).toEqual([]);
    expect(w.events.map((e) => e.type)).toEqual(['watching', 'stopping', 'reconcile', 'stopped']);
  });

  it('holds the lock while watching: a one-shot apply is refused with the watcher pid; SIGINT exits 0', async () => {
    const p = project('wlockc');
    p.write('agents:\n  a: {}');
    const w = start(p);
    await w.waitFor('the first apply', isReconcile);
    const lockFile = path.join(locks, `${p.project}.lock`);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(w.pid);

    const oneShot = agentctl(['apply'], { cwd: p.dir, env });
    expect(oneShot.status).toBe(1);
    expect(oneShot.stderr).toMatch(new RegExp(`locked by pid ${w.pid} \\(agentctl apply --watch`));

    w.child.kill('SIGINT');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(running(`${p.prefix}a`)).toBe(true);
    expect(existsSync(lockFile)).toBe(false);
    expect(agentctl(['apply'], { cwd: p.dir, env }).status).toBe(0);
  });

  it('exits 130 at once on a second SIGINT; the next run takes the lock over and converges', async () => {
    const p = project('wint2');
    p.write('agents:\n  w: { replicas: 5 }');
    const w = start(p);
    // The first SIGINT waits for the first apply (five creates); the second one does not wait.
    await w.waitFor('watching', (e) => e.type === 'watching');
    w.child.kill('SIGINT');
    await w.waitFor('stopping', (e) => e.type === 'stopping');
    w.child.kill('SIGINT');
    expect(await w.exited).toEqual({ code: 130, signal: null });
    expect(w.events.some((e) => e.type === 'stopped')).toBe(false);

    const again = agentctl(['apply'], { cwd: p.dir, env });
    expect(again.stderr).not.toMatch(/FAIL|locked/);
    expect(again.status).toBe(0);
    const names = [1, 2, 3, 4, 5].map((i) => `${p.prefix}w-${i}`);
    expect(projectContainers(p.project)).toEqual(names);
    expect(names.every(running)).toBe(true);
  });

  it('retries a crash-looping agent with growing delays instead of spinning', async () => {
    const p = project('wcrash');
    p.write('agents:\n  steady: {}\n  crash: { command: [sh, -c, "exit 1"], restart: "no" }');
    const w = start(p);
    const began = Date.now();
    await w.waitFor(
      'a repair of crash held for 4 s',
      (e) => isReconcile(e) && e.held.some((h) => h.agent === 'crash' && h.delayMs >= 4000),
      40_000,
    );
    const cpuSeconds = processCpuSeconds(w.pid);
    const elapsedSeconds = (Date.now() - began) / 1000;
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);

    const reconciles = w.events.filter(isReconcile);
    const crash = reconciles.flatMap((e) =>
      e.actions.filter((a) => a.agent === 'crash').map((a) => ({ ...a, at: Date.parse(e.time) })),
    );
    // Created by the first apply, then repaired: at once, then 1 s later, then 2 s later (a reconcile
    // slowed down past a hold may skip reporting it, never the wait itself). Nothing in between.
    const [created, ...repairs] = crash;
    expect(created?.kind).toBe('create');
    expect(repairs.map((a) => a.kind)).toEqual(repairs.map(() => 'start'));
    expect(repairs.map((a) => a.attempt)).toEqual(repairs.map((_, i) => i + 1));
    expect(repairs.length).toBeGreaterThanOrEqual(3);
    expect(repairs.length).toBeLessThanOrEqual(4);
    const delays = [
      ...new Set(reconciles.flatMap((e) => e.held.filter((h) => h.agent === 'crash').map((h) => h.delayMs))),
    ];
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays.at(-1)).toBeGreaterThanOrEqual(4000);
    // And the waits really were that long: repair k+1 came at least 1 s * 2^(k-1) after repair k.
    const gaps = repairs.slice(1).map((a, i) => a.at - (repairs[i]?.at ?? 0));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i - 50));

    // The healthy agent was left alone, and the controller mostly slept.
    expect(reconciles.flatMap((e) => e.actions).filter((a) => a.agent === 'steady')).toHaveLength(1);
    expect(reconciles.length).toBeLessThanOrEqual(20);
    expect(cpuSeconds).toBeLessThan(elapsedSeconds / 2);
    expect(running(`${p.prefix}steady`)).toBe(true);
    // The back-off is said once, when the first repair is held; not again on every retry.
    expect(w.events.filter((e) => e.type === 'backoff')).toEqual([
      expect.objectContaining({ agent: 'crash', state: 'started', attempt: 2, delayMs: 1000 }),
    ]);
  });

  it('as text, says a crash loop once when its back-off starts and once when it ends', async () => {
    const p = project('wcrasht');
    p.write('agents:\n  crash: { command: [sh, -c, "exit 1"], restart: "no" }');
    const child = spawn(process.execPath, [CLI, 'apply', '--watch'], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const lines = (re: RegExp) => stdout.split('\n').filter((l) => re.test(l));
      // Repairs 1 to 3 take about 3 s of back-off; every die and start in between brings a reconcile.
      await eventually('the third repair', () => lines(/start crash \(repair 3\)/).length > 0, 30_000);
      expect(lines(/backing off/)).toEqual([
        expect.stringMatching(/backing off: crash needs repairs again and again .*repair 2 in /),
      ]);
      p.write('agents:\n  crash: { command: [sleep, "1000"], restart: "no" }');
      await eventually('the back-off ended by the change', () => lines(/back-off over/).length > 0, 30_000);
      expect(lines(/back-off over/)).toEqual([
        expect.stringMatching(/back-off over: crash changed in the file/),
      ]);
      expect(lines(/backing off/)).toHaveLength(1);
      await eventually('crash running as changed', () => running(`${p.prefix}crash`));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

/** User + system CPU time a process has used so far, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at state, field 3; utime/stime are 14/15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}
