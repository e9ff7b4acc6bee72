/**
 * Several processes taking over the same stale lock at once: at most one may hold it at any time.
 * Runs the built module (dist/) in real separate processes, as concurrent CLI runs would.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const LOCK_MODULE = path.resolve('dist/lock.js');

/** Takes the lock, notes when it held it, holds it a moment, releases it. */
const CONTENDER = `
import { appendFileSync } from 'node:fs';
const { acquireLock } = await import(process.env.LOCK_MODULE);
const release = await acquireLock('race', { dir: process.env.LOCK_DIR, waitMs: 20000 });
appendFileSync(process.env.LOG, 'in ' + process.pid + ' ' + Date.now() + '\\n');
await new Promise((r) => setTimeout(r, 60));
appendFileSync(process.env.LOG, 'out ' + process.pid + ' ' + Date.now() + '\\n');
await release();
`;

function run(env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER], {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid ?? 999999;
}

describe('stale lock takeover under contention', () => {
  it('never lets two processes hold the lock at once', async () => {
    for (let round = 0; round < 6; round++) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-lockrace-'));
      try {
        const log = path.join(dir, 'log');
        writeFileSync(log, '');
        writeFileSync(
          path.join(dir, 'race.lock'),
          JSON.stringify({ pid: await deadPid(), command: 'x', since: 'then' }),
        );
        const env = { LOCK_MODULE, LOCK_DIR: dir, LOG: log };
        const codes = await Promise.all(Array.from({ length: 8 }, () => run(env)));
        expect(codes.every((c) => c === 0)).toBe(true);
        // The log must alternate in/out: never two "in" without an "out" between them.
        const events = readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[0]);
        expect(events).toEqual(Array.from({ length: 8 }, () => ['in', 'out']).flat());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
