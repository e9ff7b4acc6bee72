/**
 * The engine the tests use, found among this host's processes by its socket: its dockerd and the
 * containerd it started, with their open files and limits, as /proc has them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { engineProcesses, engineProcs } from '../../src/reconcile/engine-descriptors.js';

const socket = new DockerEngine().socketPath;

describe.skipIf(socket === undefined)("this host's engine's descriptors (real engine)", () => {
  it('finds the dockerd serving the socket and its containerd', async () => {
    const found = await engineProcesses(await engineProcs(), socket as string);
    // Its containerd too, when it started one itself (a system containerd it was told of is not sure).
    expect(found[0]?.name).toBe('dockerd');
    for (const p of found) {
      expect(readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()).toBe(p.name);
      expect(p.fds).toBeGreaterThan(0);
      const soft = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${p.pid}/limits`, 'utf8'))?.[1];
      expect(p.softLimit).toBe(Number(soft));
    }
    const containerd = found.find((p) => p.name === 'containerd');
    const ppid = (pid: number) =>
      Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    if (containerd && ppid(containerd.pid) !== 1) expect(ppid(containerd.pid)).toBe(found[0]?.pid);
  });
});
