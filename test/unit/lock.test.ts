import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockDir } from '../../src/lock.js';
import { processStart } from '../../src/util/process-start.js';

describe('project lock', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-lock-'));
  afterEach(() => rmSync(path.join(dir, 'p.lock'), { force: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder with a message naming the first', async () => {
    const release = await acquireLock('p', { dir });
    await expect(acquireLock('p', { dir })).rejects.toThrow(/project "p" is locked by pid \d+/);
    await release();
    const again = await acquireLock('p', { dir });
    await again();
  });

  it.each([
    ['writable by its group', (d: string) => mkdirSync(d, { mode: 0o770 }), 0o770],
    ['writable by anyone', (d: string) => mkdirSync(d), 0o777],
    ['a symlink to a directory', (d: string) => symlinkSync(dir, d), undefined],
  ])('refuses a lock directory %s: others could lock us out or fake a holder', async (_what, make, mode) => {
    const other = path.join(dir, `other-${Math.random().toString(36).slice(2)}`);
    make(other);
    if (mode !== undefined) chmodSync(other, mode);
    await expect(acquireLock('p', { dir: other })).rejects.toThrow(/is not a private directory of this user/);
  });

  it('waits for the holder to release when asked to', async () => {
    const release = await acquireLock('p', { dir });
    let waitedFor = '';
    const second = acquireLock('p', { dir, waitMs: 5000, onWait: (h) => (waitedFor = h) });
    setTimeout(() => void release(), 300);
    const release2 = await second;
    expect(waitedFor).toMatch(/^pid \d+/);
    await release2();
  });

  it('takes over a lock whose holder died', async () => {
    // A pid that is certainly dead: a child that has exited.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(path.join(dir, 'p.lock'), JSON.stringify({ pid, command: 'apply', since: 'then' }));
    const release = await acquireLock('p', { dir });
    expect(JSON.parse(readFileSync(path.join(dir, 'p.lock'), 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const pid = other.pid as number;
      await new Promise((r) => other.once('spawn', r));
      // Same pid, alive, but not the process that took the lock: it started at another time.
      const start = String(Number(processStart(pid)) - 1);
      writeFileSync(
        path.join(dir, 'p.lock'),
        JSON.stringify({ pid, start, command: 'apply', since: 'then' }),
      );
      const release = await acquireLock('p', { dir });
      expect(JSON.parse(readFileSync(path.join(dir, 'p.lock'), 'utf8')).pid).toBe(process.pid);
      await release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('keeps a live holder whose start time matches', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const pid = other.pid as number;
      await new Promise((r) => other.once('spawn', r));
      const start = processStart(pid);
      expect(start).toMatch(/^\d+$/);
      writeFileSync(
        path.join(dir, 'p.lock'),
        JSON.stringify({ pid, start, command: 'apply', since: 'then' }),
      );
      await expect(acquireLock('p', { dir })).rejects.toThrow(`locked by pid ${pid} (agentctl apply`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('notes its own start time in the lock', async () => {
    const release = await acquireLock('p', { dir });
    const holder = JSON.parse(readFileSync(path.join(dir, 'p.lock'), 'utf8'));
    expect(holder.start).toBe(processStart(process.pid));
    await release();
  });

  it('lives in one place whatever TMPDIR says', () => {
    const a = lockDir({ TMPDIR: '/tmp/one' });
    const b = lockDir({ TMPDIR: '/var/tmp/two' });
    expect(a).toBe(b);
    expect(a).not.toContain('one');
    expect(lockDir({ AGENTCTL_LOCK_DIR: '/x/locks', TMPDIR: '/tmp/one' })).toBe('/x/locks');
  });
});
