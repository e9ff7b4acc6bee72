/**
 * A dockerd of a test's own, so that it can be stopped, hung (SIGSTOP) or killed at will without touching
 * the machine's engine or anyone's containers: its own socket, data root, exec root and pidfile, no
 * iptables, and its own network namespace (`unshare --net`). Agents on it use `network: none`.
 *
 * Why a network namespace: started with `--bridge none` in the host's namespace, dockerd deletes the
 * host's `docker0`, which would cut every container of the machine's engine off. In a namespace of its
 * own it can only ever see (and delete) its own links.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runAsync } from './cli.js';
import { TEST_IMAGE } from './docker.js';
import { eventually } from './eventually.js';

export interface TestDockerd {
  /** Its private directory (data, exec root, socket, log). */
  root: string;
  /** `unix://<root>/docker.sock`, for DOCKER_HOST. */
  host: string;
  /** Starts it (again: same data root, so containers survive) and waits until it answers. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM, SIGKILL after 30 s); waits for it to exit. */
  stop(): Promise<void>;
  /** Sends a signal to the dockerd process itself (SIGSTOP, SIGCONT, SIGKILL...). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves once the dockerd process has exited (at once if it is not running). */
  exited(): Promise<void>;
  /** `docker -H <host> args...`: its stdout, trimmed; throws on failure. */
  docker(...args: string[]): string;
  /** Like docker(), but only whether it succeeded. */
  ok(...args: string[]): boolean;
  /** Copies the shared test image from the machine's engine into this one. */
  loadTestImage(): Promise<void>;
  /** Stops it, kills what is left of it (containerd, shims), unmounts and removes its root. */
  cleanup(): Promise<void>;
}

/** `tag` names its root (`/tmp/<tag>-dockerd-XXXXXX`: short, as a unix socket path must fit 108 bytes). */
export interface TestDockerdOptions {
  /** daemon.json content (extra runtimes such as gVisor's runsc...), written to its root. */
  daemonConfig?: object;
  /**
   * Run in the host's network namespace (so that a tcp listener of `extraArgs` is reachable from the
   * test) on a bridge of its own, made as `bridge.name` with `bridge.cidr` and deleted by cleanup: never
   * `--bridge none` there, which would delete the machine engine's docker0.
   */
  bridge?: { name: string; cidr: string };
  /** More dockerd arguments (`--host tcp://...`, `--tlsverify`...). */
  extraArgs?: string[];
  /**
   * Its open-files limit, soft and hard (what a dockerd started from a shell inherits; Go raises the
   * soft limit to the hard one at start, so both are set). Its containerd inherits it.
   */
  openFiles?: number;
}

export function testDockerd(tag: string, opts: TestDockerdOptions = {}): TestDockerd {
  const root = mkdtempSync(`/tmp/${tag}-dockerd-`);
  const host = `unix://${root}/docker.sock`;
  let daemon: ChildProcess | undefined;
  const running = () => daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null;

  const docker = (...args: string[]) =>
    execFileSync('docker', ['-H', host, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  const ok = (...args: string[]) =>
    spawnSync('docker', ['-H', host, ...args], { stdio: 'ignore', timeout: 15_000 }).status === 0;
  // For the waits of start and cleanup: a dockerd starting (or hung) answers late, and each synchronous
  // try would block the test worker for up to its 15 s.
  const okAsync = async (...args: string[]) =>
    (await runAsync('docker', ['-H', host, ...args], { timeout: 15_000 })).status === 0;

  const exited = async () => {
    const d = daemon;
    if (!d || !running()) return;
    await new Promise((resolve) => d.once('exit', resolve));
  };

  const self: TestDockerd = {
    root,
    host,
    async start() {
      // After a SIGKILL, the old containerd may still be on its way out: a dockerd started meanwhile
      // finds its pid alive, waits for its socket, and gives up. Its pid may even have been reused by
      // another process by now, which dockerd takes for containerd just the same: drop such a pidfile.
      // (Shims and their tasks live on, as on a real host, and the new containerd picks them up.)
      const pidFile = path.join(root, 'exec', 'containerd', 'containerd.pid');
      const isOurs = (pid: number | undefined) => alive(pid) && cmdlineOf(pid).includes(root);
      await eventually('the old containerd to exit', () => !isOurs(pidIn(pidFile)), 30_000);
      rmSync(pidFile, { force: true });
      const config: string[] = [];
      if (opts.daemonConfig) {
        const file = path.join(root, 'daemon.json');
        writeFileSync(file, JSON.stringify(opts.daemonConfig));
        config.push('--config-file', file);
      }
      const log = openSync(path.join(root, 'dockerd.log'), 'a');
      const net: string[] = [];
      if (opts.bridge) {
        const b = opts.bridge;
        if (spawnSync('ip', ['link', 'show', b.name], { stdio: 'ignore' }).status !== 0) {
          execFileSync('ip', ['link', 'add', b.name, 'type', 'bridge']);
          execFileSync('ip', ['addr', 'add', b.cidr, 'dev', b.name]);
          execFileSync('ip', ['link', 'set', b.name, 'up']);
        }
        net.push('--bridge', b.name);
      } else {
        net.push('--bridge', 'none');
      }
      // `unshare` and `prlimit` exec what follows in place, so the child's pid is dockerd's: signals
      // reach dockerd itself.
      const launch = [
        ...(opts.openFiles !== undefined
          ? ['prlimit', `--nofile=${opts.openFiles}:${opts.openFiles}`, '--']
          : []),
        ...(opts.bridge ? [] : ['unshare', '--net', '--']),
        'dockerd',
      ];
      daemon = spawn(
        launch[0] as string,
        [
          ...launch.slice(1),
          '--host',
          host,
          ...(opts.extraArgs ?? []),
          ...config,
          '--data-root',
          path.join(root, 'data'),
          '--exec-root',
          path.join(root, 'exec'),
          '--pidfile',
          path.join(root, 'docker.pid'),
          ...net,
          '--iptables=false',
          '--ip6tables=false',
          '--shutdown-timeout',
          '2',
        ],
        { stdio: ['ignore', log, log], env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } },
      );
      closeSync(log);
      await eventually('the test dockerd to answer', () => okAsync('info'), 60_000);
    },
    async stop() {
      const d = daemon;
      if (!d || !running()) return;
      const done = exited();
      d.kill('SIGCONT');
      d.kill('SIGTERM');
      const timer = setTimeout(() => d.kill('SIGKILL'), 30_000);
      await done;
      clearTimeout(timer);
    },
    signal(sig) {
      if (running()) daemon?.kill(sig);
    },
    exited,
    docker,
    ok,
    async loadTestImage() {
      const load = await runAsync('sh', ['-c', `docker save ${TEST_IMAGE} | docker -H ${host} load`]);
      if (load.status !== 0)
        throw new Error(`loading the test image into the test dockerd failed: ${load.stderr}`);
    },
    async cleanup() {
      // Its containers first, while it can still remove them: a container outlives a killed shim.
      self.signal('SIGCONT');
      if (running() && (await okAsync('info'))) {
        const ids = spawnSync('docker', ['-H', host, 'ps', '-aq'], { encoding: 'utf8' }).stdout.trim();
        // Asynchronously: removing hundreds of containers can take minutes on a loaded machine, and a
        // synchronous child would block the worker long enough for vitest's own calls to time out.
        if (ids)
          await exitOf(spawn('docker', ['-H', host, 'rm', '-f', ...ids.split('\n')], { stdio: 'ignore' }));
      }
      await self.stop();
      killStrays(root);
      if (opts.bridge) spawnSync('ip', ['link', 'del', opts.bridge.name], { stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
    },
  };
  return self;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

function pidIn(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes.
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Anything still running from our root after the daemon is gone: containerd and shims (their command
 * lines name our root) and the containers' own processes (a killed shim leaves them running; they are
 * in a cgroup named after their container id), then its mounts.
 */
function killStrays(root: string): void {
  // Never without a root of our own: every command line "includes" the empty string.
  if (!/^\/tmp\/[\w.-]+-dockerd-\w+$/.test(root)) return;
  let ids: string[] = [];
  try {
    ids = readdirSync(path.join(root, 'data', 'containers')).filter((f) => /^[0-9a-f]{64}$/.test(f));
  } catch {
    // No container was ever made.
  }
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      const ours =
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root) ||
        (ids.length > 0 && ids.some((id) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id)));
      if (ours) process.kill(Number(pid), 'SIGKILL');
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
