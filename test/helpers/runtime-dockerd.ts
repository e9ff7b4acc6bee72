/**
 * A second dockerd of a test's own, configured with extra OCI runtimes (gVisor's runsc), so tests can
 * drive a real engine with a runtime the machine's engine does not have, without reconfiguring it. Its
 * own socket, data root, exec root and pidfile, no iptables, and its own network namespace
 * (`unshare --net`) with `--bridge none`: in the host's namespace that flag deletes the host's docker0
 * and cuts every container of the machine's engine off; in a namespace of its own it sees only its
 * own links. Agents on it use `network: none`.
 *
 * Same shape as the test-dockerd helper issue 9 is writing (start/stop/docker/loadTestImage/cleanup),
 * plus `daemonConfig`: when that lands, this folds into it as an option.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_IMAGE } from './docker.js';
import { eventually } from './eventually.js';

export interface RuntimeDockerd {
  root: string;
  /** `unix://<root>/docker.sock`, for DOCKER_HOST. */
  host: string;
  start(): Promise<void>;
  /** `docker -H <host> args...`: stdout, trimmed; throws on failure. */
  docker(...args: string[]): string;
  /** Like docker(), never throws: status and both outputs. */
  run(...args: string[]): { status: number; stdout: string; stderr: string };
  loadTestImage(): void;
  cleanup(): Promise<void>;
}

/** `tag` names its root (`/tmp/<tag>-dockerd-XXXXXX`; short: a unix socket path must fit 108 bytes). */
export function runtimeDockerd(tag: string, daemonConfig: object): RuntimeDockerd {
  const root = mkdtempSync(`/tmp/${tag}-dockerd-`);
  const host = `unix://${root}/docker.sock`;
  let daemon: ChildProcess | undefined;
  const running = () => daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null;
  const run = (...args: string[]) => {
    const r = spawnSync('docker', ['-H', host, ...args], { encoding: 'utf8' });
    return { status: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  };

  const self: RuntimeDockerd = {
    root,
    host,
    async start() {
      const config = path.join(root, 'daemon.json');
      writeFileSync(config, JSON.stringify(daemonConfig));
      const log = openSync(path.join(root, 'dockerd.log'), 'a');
      daemon = spawn(
        'unshare',
        [
          '--net',
          '--',
          'dockerd',
          '--host',
          host,
          '--config-file',
          config,
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
      await eventually('the test dockerd to answer', () => run('info').status === 0, 60_000);
    },
    docker: (...args) =>
      execFileSync('docker', ['-H', host, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim(),
    run,
    loadTestImage() {
      const load = spawnSync('sh', ['-c', `docker save ${TEST_IMAGE} | docker -H ${host} load`], {
        encoding: 'utf8',
      });
      if (load.status !== 0)
        throw new Error(`loading the test image into the test dockerd failed: ${load.stderr}`);
    },
    async cleanup() {
      if (running() && run('info').status === 0) {
        const ids = run('ps', '-aq').stdout;
        if (ids) run('rm', '-f', ...ids.split('\n'));
      }
      const d = daemon;
      if (d && running()) {
        const exited = new Promise((resolve) => d.once('exit', resolve));
        d.kill('SIGTERM');
        const timer = setTimeout(() => d.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      killStrays(root);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return self;
}

/** Anything still running from our root (containerd, shims, runsc) after the daemon is gone, and mounts. */
function killStrays(root: string): void {
  // Never without a root of our own: every command line "includes" the empty string.
  if (!/^\/tmp\/[\w.-]+-dockerd-\w+$/.test(root)) return;
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

/** The path of a command on PATH (and the sbin directories), or undefined: for loud skips. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
