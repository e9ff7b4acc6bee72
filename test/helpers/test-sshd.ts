/**
 * A loopback sshd of a test's own (Debian's openssh-server): 127.0.0.1 on a free port, its own host
 * key, config, pid file and authorized key, all made here; run in the foreground (-D) as a child process
 * and killed by cleanup. Sessions get `DOCKER_HOST` (SetEnv), so the remote `docker system dial-stdio`
 * reaches the engine the test chose. A client side comes with it: a HOME with .ssh/known_hosts holding
 * the server's key and .ssh/id_ed25519 the authorized key, for the agentctl under test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventually } from './eventually.js';

export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  root: string;
  port: number;
  /** A HOME whose .ssh trusts this server and holds the authorized key as id_ed25519. */
  home: string;
  /** The authorized private key (also home/.ssh/id_ed25519). */
  clientKey: string;
  /** The known_hosts line for this server. */
  knownHostsLine: string;
  /** sshd's pid (the listener; each connection is a child process of it). */
  pid(): number | undefined;
  /** Pids of the per-connection sshd processes (children of the listener). */
  connectionPids(): number[];
  cleanup(): Promise<void>;
}

export interface TestSshdOptions {
  /** DOCKER_HOST of the sessions. */
  dockerHost: string;
  /** PATH of the sessions (to leave docker out of it). */
  path?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agentctl-test', '-f', file]);
}

export async function testSshd(tag: string, opts: TestSshdOptions): Promise<TestSshd> {
  const root = mkdtempSync(`/tmp/${tag}-sshd-`);
  const port = await freePort();
  keygen(path.join(root, 'host_key'));
  keygen(path.join(root, 'client_key'));
  writeFileSync(path.join(root, 'authorized_keys'), readFileSync(path.join(root, 'client_key.pub')));
  const hostPub = readFileSync(path.join(root, 'host_key.pub'), 'utf8').trim().split(/\s+/);
  const knownHostsLine = `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}`;
  const home = path.join(root, 'home');
  mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(path.join(home, '.ssh', 'known_hosts'), `${knownHostsLine}\n`);
  copyFileSync(path.join(root, 'client_key'), path.join(home, '.ssh', 'id_ed25519'));
  chmodSync(path.join(home, '.ssh', 'id_ed25519'), 0o600);
  const env = [`DOCKER_HOST=${opts.dockerHost}`, ...(opts.path ? [`PATH=${opts.path}`] : [])];
  const config = path.join(root, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(root, 'host_key')}`,
      `PidFile ${path.join(root, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(root, 'authorized_keys')}`,
      // The files live under /tmp (world-writable): StrictModes would refuse them.
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `SetEnv ${env.join(' ')}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation directory (made by the service's start script, which the tests do not run).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const log = path.join(root, 'sshd.log');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
    // sshd may still write while its root is being removed by cleanup: the log only helps debugging.
    try {
      writeFileSync(log, output);
    } catch {
      // Its directory is gone.
    }
  });
  const listening = () => /Server listening/.test(output);
  try {
    await eventually('the test sshd to listen', () => listening() || child.exitCode !== null, 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (!listening()) throw new Error(`the test sshd did not start: ${output}`);

  const childrenOf = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  return {
    root,
    port,
    home,
    clientKey: path.join(root, 'client_key'),
    knownHostsLine,
    pid: () => child.pid,
    connectionPids: () => (child.pid ? childrenOf(child.pid) : []),
    async cleanup() {
      const pid = child.pid;
      // The connections' processes first (the listener's death does not end them), then the listener.
      const kids = pid ? childrenOf(pid) : [];
      for (const k of kids) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await done;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
