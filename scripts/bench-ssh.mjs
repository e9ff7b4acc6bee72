#!/usr/bin/env node
// node scripts/bench-ssh.mjs (after npm run build; needs Debian's openssh-server): what a call costs over
// an ssh engine, against the local socket of the SAME engine, measured in the same run.
//
//   local socket      DockerEngine on /var/run/docker.sock (or DOCKER_HOST's socket)
//   ssh, one conn     DockerEngine over ssh://root@127.0.0.1:PORT: one ssh connection, pooled dial-stdio
//                     channels (what agentctl does)
//   ssh, per call     a new ssh connection for every call (what a client without pooling pays)
//
// The sshd is our own on loopback (own port, host key, config; killed at the end); its sessions' docker
// talks to the machine's engine. Calls: a filtered container list (cheap, read-only) and an exec of
// `true` in one throwaway busybox container. Runs of the sides alternate, so load hits both alike.
// Loopback has no network latency: over a real network each side adds the round trips it makes (the
// pooled one: one per call, like any remote Docker client).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, SOCKET } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const RUNS = Number(process.env.BENCH_SSH_RUNS ?? 100);
const PER_CALL_RUNS = 10;
const EXEC_RUNS = 20;
const SSHD = '/usr/sbin/sshd';

if (!existsSync(SSHD)) {
  console.error(`bench-ssh: needs ${SSHD} (apt-get install openssh-server)`);
  process.exit(1);
}
const { DockerEngine } = await import(path.join(ROOT, 'dist', 'docker', 'engine.js'));

const root = mkdtempSync('/tmp/i13-bench-ssh-');
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const keygen = (f) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]);
keygen(path.join(root, 'host_key'));
keygen(path.join(root, 'client_key'));
copyFileSync(path.join(root, 'client_key.pub'), path.join(root, 'authorized_keys'));
const home = path.join(root, 'home');
mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
const [type, key] = execFileSync('cat', [path.join(root, 'host_key.pub')], { encoding: 'utf8' }).split(' ');
writeFileSync(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${type} ${key}\n`);
copyFileSync(path.join(root, 'client_key'), path.join(home, '.ssh', 'id_ed25519'));
chmodSync(path.join(home, '.ssh', 'id_ed25519'), 0o600);
writeFileSync(
  path.join(root, 'sshd_config'),
  [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(root, 'host_key')}`,
    `PidFile ${path.join(root, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(root, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'PermitRootLogin prohibit-password',
    `SetEnv DOCKER_HOST=unix://${SOCKET}`,
    '',
  ].join('\n'),
);
mkdirSync('/run/sshd', { recursive: true });
const sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(root, 'sshd_config')], { stdio: 'ignore' });
process.env.HOME = home;
delete process.env.SSH_AUTH_SOCK;

const sshAddress = { host: '127.0.0.1', port, ssh: { user: 'root' } };
const local = new DockerEngine({ socketPath: SOCKET }, 30_000);
const ssh = new DockerEngine(sshAddress, 30_000, 'bench');
const name = `i13-bench-ssh-${randomBytes(3).toString('hex')}`;
const list = (e) => e.listContainers({ 'agentctl.bench': name });
let container;

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)] };
};
async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return ms(t0);
}

try {
  // Wait for sshd; the first ssh call also pays the connection and handshake.
  let first;
  for (let i = 0; ; i++) {
    try {
      first = await time(() => list(ssh));
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await list(local);
  const image = buildTestImage();
  container = await local.createContainer(name, {
    Image: image,
    Cmd: ['sleep', '600'],
    Env: [],
    WorkingDir: '/',
    Labels: { 'agentctl.bench': name },
    HostConfig: { NetworkMode: 'none', Mounts: [] },
  });
  await local.startContainer(container);

  const t = { local: [], ssh: [], perCall: [], execLocal: [], execSsh: [] };
  for (let i = 0; i < 10; i++) await Promise.all([list(local), list(ssh)]); // warm-up
  for (let i = 0; i < RUNS; i++) {
    t.local.push(await time(() => list(local)));
    t.ssh.push(await time(() => list(ssh)));
  }
  for (let i = 0; i < PER_CALL_RUNS; i++) {
    const fresh = new DockerEngine(sshAddress, 30_000, 'bench-fresh');
    t.perCall.push(await time(() => list(fresh)));
    fresh.http.close();
  }
  const io = { onOutput: () => undefined };
  for (let i = 0; i < EXEC_RUNS; i++) {
    t.execLocal.push(await time(() => local.exec(container, { cmd: ['true'] }, io)));
    t.execSsh.push(await time(() => ssh.exec(container, { cmd: ['true'] }, io)));
  }
  const rows = [
    ['container list, local socket', stats(t.local), RUNS],
    ['container list, ssh one connection', stats(t.ssh), RUNS],
    ['container list, ssh connection per call', stats(t.perCall), PER_CALL_RUNS],
    ['exec true, local socket', stats(t.execLocal), EXEC_RUNS],
    ['exec true, ssh one connection', stats(t.execSsh), EXEC_RUNS],
  ];
  console.log('bench-ssh: per-call latency (ms), same engine, loopback sshd');
  console.log('  call'.padEnd(46) + 'median'.padStart(9) + 'p95'.padStart(9) + 'runs'.padStart(7));
  for (const [what, s, n] of rows) {
    console.log(
      `  ${what}`.padEnd(46) +
        s.median.toFixed(2).padStart(9) +
        s.p95.toFixed(2).padStart(9) +
        String(n).padStart(7),
    );
  }
  console.log(`  first ssh call (connect + handshake + channel): ${first.toFixed(1)} ms`);
  console.log(
    `  ssh one connection / local socket (list): ${(stats(t.ssh).median / stats(t.local).median).toFixed(2)}x; per-call connection / one connection: ${(stats(t.perCall).median / stats(t.ssh).median).toFixed(1)}x`,
  );
  console.log(`  ssh connections open at the end: ${ssh.http.connection.ssh.connectionCount()}`);
} finally {
  if (container) await local.removeContainer(container, { force: true }).catch(() => undefined);
  ssh.http.close();
  local.http.close();
  sshd.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
