/**
 * dockerd restarted under a running watcher. The test runs its OWN dockerd (own socket, data root, exec
 * root and pidfile; no bridge, no iptables), so that it can stop and start it at will without touching
 * the machine's engine or anyone's containers; the agents use `network: none` as it has no bridge.
 * agentctl reaches it through DOCKER_HOST, as a user would point it at an engine.
 *
 * That dockerd runs in a network namespace of its own (`unshare --net`): started with `--bridge none`,
 * dockerd deletes the host's `docker0`, which would cut every container of the machine's engine off.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/watch/events.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { type TestDockerd, testDockerd } from '../helpers/test-dockerd.js';
import { spawnWatch, type WatchProcess } from '../helpers/watch-process.js';

const MiB = 1024 ** 2;
let engine: TestDockerd;
const d2 = (...args: string[]) => engine.docker(...args);
const d2ok = (...args: string[]) => engine.ok(...args);

type Reconcile = Extract<WatchEvent, { type: 'reconcile' }>;
const isReconcile = (e: WatchEvent): e is Reconcile => e.type === 'reconcile';

describe('apply --watch across a dockerd restart (own dockerd)', () => {
  let p: TestProject | undefined;
  let w: WatchProcess | undefined;

  beforeAll(async () => {
    engine = testDockerd('agentctl');
    await engine.start();
    await engine.loadTestImage();
  });

  afterAll(async () => {
    if (w && w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    await engine?.cleanup();
    p?.cleanup();
  });

  it('reconnects, resyncs and converges: same containers, data kept, a change made while it was down applied', async () => {
    const hostBridge = existsSync('/sys/class/net/docker0');
    p = testProject('wdockerd');
    const project = p;
    project.write('agents:\n  a: {}\n  b: {}', '  network: none');
    const names = ['a', 'b'].map((id) => `${project.prefix}${id}`);
    const running = (name: string) =>
      d2ok('inspect', name) && d2('inspect', '-f', '{{.State.Running}}', name) === 'true';

    w = spawnWatch(['--resync', '600'], {
      cwd: project.dir,
      env: { DOCKER_HOST: engine.host, AGENTCTL_LOCK_DIR: path.join(engine.root, 'locks') },
    });
    await w.waitFor('the first apply', isReconcile);
    expect(names.every(running)).toBe(true);
    const ids = names.map((n) => d2('inspect', '-f', '{{.Id}}', n));
    d2('exec', names[0] as string, 'sh', '-c', 'echo kept > /mnt/data.txt');

    await engine.stop();
    await w.waitFor('the event stream lost', (e) => e.type === 'engine' && e.state === 'disconnected');
    project.write('agents:\n  a: { memory: 96m }\n  b: {}', '  network: none');
    await w.waitFor(
      'the change tried while the engine is down',
      (e) => e.type === 'error' && e.trigger.includes('file'),
    );

    await engine.start();
    await w.waitFor('the event stream back', (e) => e.type === 'engine' && e.state === 'connected');
    await eventually(
      'both agents running, a at 96m',
      () =>
        names.every(running) &&
        Number(d2('inspect', '-f', '{{.HostConfig.Memory}}', names[0] as string)) === 96 * MiB,
    );
    expect(names.map((n) => d2('inspect', '-f', '{{.Id}}', n))).toEqual(ids);
    const all = d2(
      'ps',
      '-a',
      '--filter',
      `label=agentctl.project=${project.project}`,
      '--format',
      '{{.Names}}',
    );
    expect(all.split('\n').sort()).toEqual(names);
    expect(d2('exec', names[0] as string, 'cat', '/mnt/data.txt')).toBe('kept');

    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.notJson).toEqual([]);
    // The machine's engine keeps its bridge (see the top of this file).
    expect(existsSync('/sys/class/net/docker0')).toBe(hostBridge);
  });
});
