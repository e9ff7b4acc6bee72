/**
 * dockerd restarted under a running watcher. The test runs its OWN dockerd (own socket, data root, exec
 * root and pidfile; no bridge, no iptables), so that it can stop and start it at will without touching
 * the machine's engine or anyone's containers; the agents use `network: none` as it has no bridge.
 * agentctl reaches it through DOCKER_HOST, as a user would point it at an engine.
 *
 * That dockerd runs in a network namespace of its own (`unshare --net`): started with `--bridge none`,
 * dockerd deletes the host's `docker0`, which would cut every container of the machine's engine off.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/watch/events.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { type TestProject, testProject } from '../helpers/project.js';
import { spawnWatch, type WatchProcess } from '../helpers/watch-process.js';

const MiB = 1024 ** 2;
let root = '';
let host = '';
let daemon: ChildProcess | undefined;

function d2(...args: string[]): string {
  return execFileSync('docker', ['-H', host, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function d2ok(...args: string[]): boolean {
  return spawnSync('docker', ['-H', host, ...args], { stdio: 'ignore' }).status === 0;
}

async function startDaemon(): Promise<void> {
  const log = openSync(path.join(root, 'dockerd.log'), 'a');
  daemon = spawn(
    'unshare',
    [
      '--net',
      '--',
      'dockerd',
      '--host',
      host,
      '--data-root',
      path.join(root, 'data'),
      '--exec-root',
      path.join(root, 'exec'),
      '--pidfile',
      path.join(root, 'docker.pid'),
      '--bridge',
      'none',
      '--iptables=false',
      '--ip6tables=false',
      '--shutdown-timeout',
      '2',
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } },
  );
  closeSync(log);
  await eventually('the test dockerd to answer', () => d2ok('info'), 60_000);
}

async function stopDaemon(): Promise<void> {
  const d = daemon;
  if (!d || d.exitCode !== null || d.signalCode !== null) return;
  const exited = new Promise((resolve) => d.once('exit', resolve));
  d.kill('SIGTERM');
  const timer = setTimeout(() => d.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Anything still running from our root (containerd, shims) after the daemon is gone. */
function killStrays(): void {
  // Never without a root of our own: every command line "includes" the empty string.
  if (!root.startsWith('/tmp/agentctl-dockerd-')) return;
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(root))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

type Reconcile = Extract<WatchEvent, { type: 'reconcile' }>;
const isReconcile = (e: WatchEvent): e is Reconcile => e.type === 'reconcile';

describe('apply --watch across a dockerd restart (own dockerd)', () => {
  let p: TestProject | undefined;
  let w: WatchProcess | undefined;

  beforeAll(async () => {
    // Short: a unix socket path must fit in 108 bytes.
    root = mkdtempSync('/tmp/agentctl-dockerd-');
    host = `unix://${root}/docker.sock`;
    await startDaemon();
    const load = spawnSync('sh', ['-c', `docker save ${TEST_IMAGE} | docker -H ${host} load`], {
      encoding: 'utf8',
    });
    if (load.status !== 0)
      throw new Error(`loading the test image into the test dockerd failed: ${load.stderr}`);
  });

  afterAll(async () => {
    if (w && w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    await stopDaemon();
    killStrays();
    p?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
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
      env: { DOCKER_HOST: host, AGENTCTL_LOCK_DIR: path.join(root, 'locks') },
    });
    await w.waitFor('the first apply', isReconcile);
    expect(names.every(running)).toBe(true);
    const ids = names.map((n) => d2('inspect', '-f', '{{.Id}}', n));
    d2('exec', names[0] as string, 'sh', '-c', 'echo kept > /mnt/data.txt');

    await stopDaemon();
    await w.waitFor('the event stream lost', (e) => e.type === 'engine' && e.state === 'disconnected');
    project.write('agents:\n  a: { memory: 96m }\n  b: {}', '  network: none');
    await w.waitFor(
      'the change tried while the engine is down',
      (e) => e.type === 'error' && e.trigger.includes('file'),
    );

    await startDaemon();
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
