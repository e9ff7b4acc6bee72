/** Which lifecycle changes a running watcher undoes, and finding the watcher from the project lock. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, watcherOf } from '../../src/lock.js';
import { type LifecycleAction, wouldUndo } from '../../src/ops/watcher-guard.js';
import type { ContainerRunState, DesiredRunState } from '../../src/types.js';

describe('wouldUndo', () => {
  const rows: [LifecycleAction, ContainerRunState, DesiredRunState | undefined, boolean, boolean][] = [
    // action, container state, declared state, file unreadable, undone
    ['stop', 'running', 'running', false, true],
    ['stop', 'restarting', 'running', false, true],
    ['stop', 'running', 'stopped', false, false],
    ['stop', 'exited', 'running', false, false], // already stopped: nothing to undo
    ['stop', 'running', undefined, false, false], // not declared: not the watcher's to bring back
    ['stop', 'running', undefined, true, true], // file unreadable: its last good state most likely runs it
    ['start', 'exited', 'stopped', false, true],
    ['start', 'exited', 'running', false, false],
    ['start', 'running', 'stopped', false, false],
    ['start', 'exited', undefined, true, false],
    ['restart', 'running', 'running', false, false],
    ['restart', 'exited', 'stopped', false, true],
  ];
  it.each(rows)('%s of a %s agent declared %s (unreadable: %s) -> undone %s', (a, st, decl, bad, undone) => {
    expect(wouldUndo(a, { state: st }, decl, bad)).toBe(undone);
  });
});

describe('watcherOf', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-watcher-of-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a live watcher and its file; a one-shot holder or no lock is no watcher', async () => {
    expect(await watcherOf('nobody', dir)).toBeUndefined();
    const release = await acquireLock('watched', { dir, watchFile: '/x/agents.yaml' });
    const oneShot = await acquireLock('applying', { dir });
    try {
      expect(await watcherOf('watched', dir)).toMatchObject({ pid: process.pid, file: '/x/agents.yaml' });
      expect(await watcherOf('applying', dir)).toBeUndefined();
    } finally {
      await release();
      await oneShot();
    }
    expect(await watcherOf('watched', dir)).toBeUndefined();
  });
});
