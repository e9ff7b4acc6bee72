/**
 * A Podman Docker-compatible service of a test's own (`podman system service` on its own socket), with
 * its own storage root, run root and tmpdir, in its own network namespace (`unshare --net`, so Podman's
 * networking never touches the host's), events in a file and cgroupfs (no systemd here). Podman cannot
 * pull on this machine: the shared test image is copied in with `docker save | podman load`.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runAsync } from './cli.js';
import { TEST_IMAGE } from './docker.js';
import { eventually } from './eventually.js';

export interface TestPodman {
  root: string;
  /** `unix://<root>/podman.sock`, for DOCKER_HOST. */
  host: string;
  socketPath: string;
  start(): Promise<void>;
  /** `podman <storage flags> args...`: stdout, trimmed; throws on failure. */
  podman(...args: string[]): string;
  /** Like podman(), never throws. */
  run(...args: string[]): { status: number; stdout: string; stderr: string };
  loadTestImage(): Promise<void>;
  cleanup(): Promise<void>;
}

export function testPodman(tag: string): TestPodman {
  const root = mkdtempSync(`/tmp/${tag}-podman-`);
  const socketPath = path.join(root, 'podman.sock');
  const conf = path.join(root, 'containers.conf');
  const env = { ...process.env, CONTAINERS_CONF: conf, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  const storage = [
    '--root',
    path.join(root, 'storage'),
    '--runroot',
    path.join(root, 'run'),
    '--tmpdir',
    path.join(root, 'tmp'),
  ];
  let service: ChildProcess | undefined;
  const run = (...args: string[]) => {
    const r = spawnSync('podman', [...storage, ...args], { encoding: 'utf8', env });
    return { status: r.status ?? -1, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  };

  const self: TestPodman = {
    root,
    host: `unix://${socketPath}`,
    socketPath,
    async start() {
      writeFileSync(
        conf,
        [
          '[engine]',
          'cgroup_manager = "cgroupfs"',
          'events_logger = "file"',
          `events_logfile_path = "${path.join(root, 'events.log')}"`,
          'runtime = "runc"',
          '',
        ].join('\n'),
      );
      const log = openSync(path.join(root, 'service.log'), 'a');
      service = spawn(
        'unshare',
        ['--net', '--', 'podman', ...storage, 'system', 'service', '--time=0', `unix://${socketPath}`],
        { stdio: ['ignore', log, log], env },
      );
      closeSync(log);
      await eventually('the test podman service to answer', () => ping(socketPath), 60_000);
    },
    podman: (...args) =>
      execFileSync('podman', [...storage, ...args], {
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim(),
    run,
    async loadTestImage() {
      // Asynchronously: copying the image takes seconds, which would block the test worker.
      const load = await runAsync(
        'sh',
        ['-c', `docker save ${TEST_IMAGE} | podman ${storage.join(' ')} load`],
        {
          env,
        },
      );
      if (load.status !== 0) throw new Error(`loading the test image into podman failed: ${load.stderr}`);
    },
    async cleanup() {
      // Containers first: their conmon processes outlive the service.
      run('rm', '-af', '-t', '0');
      const s = service;
      if (s && s.exitCode === null && s.signalCode === null) {
        const exited = new Promise((resolve) => s.once('exit', resolve));
        s.kill('SIGTERM');
        const timer = setTimeout(() => s.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      // conmon of finished execs lingers (--exit-delay); nothing of this root may outlive the test.
      if (/^\/tmp\/[\w.-]+-podman-\w+$/.test(root)) {
        for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
          try {
            if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root))
              process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Gone meanwhile, or not ours to read.
          }
        }
      }
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(root))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return self;
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}
