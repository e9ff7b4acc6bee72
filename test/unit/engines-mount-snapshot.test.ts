import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSummary, DockerPort } from '../../src/docker/port.js';
import { localHostFs } from '../../src/docker/local-host-fs.js';
import { enginesMountSnapshot, unansweredReason, usersOf } from '../../src/ops/workdir-in-use.js';

// An engine that stops answering between the start of a command and its in-use check cannot be made
// to happen on cue with a real engine: these ports answer only the one list call the check makes.
const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-mounts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function port(list: () => Promise<ContainerSummary[]>): DockerPort {
  return { listContainers: list } as unknown as DockerPort;
}
const mounting = (name: string, source: string): ContainerSummary => ({
  id: name,
  name,
  state: 'running',
  image: 'x',
  imageId: 'sha256:x',
  labels: {},
  createdAt: '2026-01-01T00:00:00Z',
  mountSources: [source],
});

describe('enginesMountSnapshot: every engine of one machine', () => {
  it('names each container with its engine, and an engine that does not answer with its message', async () => {
    const { snapshot, unanswered } = await enginesMountSnapshot([
      { name: 'a', port: port(async () => [mounting('c1', path.join(dir, 'w1'))]), host: localHostFs },
      { name: 'b', port: port(() => Promise.reject(new Error('connection refused'))), host: localHostFs },
      { name: 'c', port: port(async () => [mounting('c2', dir)]), host: localHostFs },
    ]);
    expect(unanswered).toEqual([{ name: 'b', message: expect.stringContaining('connection refused') }]);
    expect(await usersOf(snapshot, path.join(dir, 'w1'))).toEqual(['c1 on engine a', 'c2 on engine c']);
    expect(await usersOf(snapshot, path.join(dir, 'w2'))).toEqual(['c2 on engine c']);
  });

  it('words the reason for one engine and for several, in name order', () => {
    expect(unansweredReason(['b'], 'this directory')).toBe(
      'engine b on the same host could not be asked whether a container of it mounts this directory',
    );
    expect(unansweredReason(['z', 'b'], '/d')).toBe(
      'engines b, z on the same host could not be asked whether a container of them mounts /d',
    );
  });
});
