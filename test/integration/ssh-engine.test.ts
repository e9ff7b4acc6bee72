/**
 * An engine reached over ssh, for real: a loopback sshd of the test's own (test-sshd.ts) whose sessions'
 * `docker` talks to a private dockerd (test-dockerd.ts). The engine client must use ONE ssh connection
 * (counted as sshd's per-connection processes), reconnect after it drops, check the host key against
 * known_hosts, and fail with a message naming the engine for every way it can go wrong.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { type EngineAddress, parseEngineHost } from '../../src/docker/engine-address.js';
import type { CreateContainerBody } from '../../src/docker/port.js';
import { openRemoteEngine } from '../../src/docker/remote-engine.js';
import { TEST_IMAGE } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, testSshd, type TestSshd, SSHD } from '../helpers/test-sshd.js';
import { testDockerd, type TestDockerd } from '../helpers/test-dockerd.js';
import { existsSync } from 'node:fs';

const haveSshd = existsSync(SSHD);
const sshOf = (e: DockerEngine) =>
  (e as unknown as { http: { connection: { ssh: { connectionCount(): number } } } }).http.connection.ssh;
if (!haveSshd) console.warn(`SKIPPED: ssh engine tests need ${SSHD} (Debian's openssh-server)`);

describe.skipIf(!haveSshd)('an engine over ssh (loopback sshd -> private dockerd)', () => {
  let d: TestDockerd;
  let sshd: TestSshd;
  let noDocker: TestSshd;
  let scratch: string;
  const savedHome = process.env.HOME;
  const savedAgent = process.env.SSH_AUTH_SOCK;
  const engines: DockerEngine[] = [];

  const engine = (over: Partial<EngineAddress> = {}, port = sshd.port): DockerEngine => {
    const e = new DockerEngine(
      { host: '127.0.0.1', port, ssh: { user: 'root' }, ...over },
      30_000,
      'remote1',
    );
    engines.push(e);
    return e;
  };
  /** A HOME for the client: known_hosts as given, and no key files unless given. */
  const homeWith = (knownHosts: string, key?: string): string => {
    const home = mkdtempSync(path.join(scratch, 'home-'));
    mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(path.join(home, '.ssh', 'known_hosts'), knownHosts);
    if (key) writeFileSync(path.join(home, '.ssh', 'id_ed25519'), key, { mode: 0o600 });
    return home;
  };

  beforeAll(async () => {
    d = testDockerd('i13-ssh');
    await d.start();
    await d.loadTestImage();
    sshd = await testSshd('i13-ssh', { dockerHost: d.host });
    noDocker = await testSshd('i13-nodocker', { dockerHost: d.host, path: '/nonexistent' });
    scratch = mkdtempSync('/tmp/i13-ssh-client-');
    delete process.env.SSH_AUTH_SOCK;
    process.env.HOME = sshd.home;
  }, 120_000);

  afterAll(async () => {
    for (const e of engines) (e as unknown as { http: { close(): void } }).http.close();
    process.env.HOME = savedHome;
    if (savedAgent === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = savedAgent;
    await sshd?.cleanup();
    await noDocker?.cleanup();
    await d?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it('drives that engine: info, create, start, exec with stdin, over one ssh connection', async () => {
    process.env.HOME = sshd.home;
    const e = engine();
    const info = await e.info();
    expect(info.serverVersion).toBe(d.docker('version', '--format', '{{.Server.Version}}'));
    const body = {
      Image: TEST_IMAGE,
      Cmd: ['sleep', '600'],
      Env: [],
      WorkingDir: '/',
      Labels: { 'i13.test': 'ssh' },
      HostConfig: { NetworkMode: 'none', Mounts: [] },
    } as unknown as CreateContainerBody;
    const id = await e.createContainer('i13-ssh-one', body);
    await e.startContainer(id);
    // The world: the container is on the private engine, running.
    expect(
      d.docker('inspect', '--format', '{{.State.Running}} {{index .Config.Labels "i13.test"}}', id),
    ).toBe('true ssh');
    const out: Buffer[] = [];
    const r = await e.exec(
      id,
      { cmd: ['sh', '-c', 'tr a-z A-Z'], stdin: Buffer.from('over ssh\n') },
      {
        onOutput: (_s, c) => void out.push(c),
      },
    );
    expect(r).toMatchObject({ exitCode: 0 });
    expect(Buffer.concat(out).toString()).toBe('OVER SSH\n');
    // Many calls, several at once: still one ssh connection (one sshd connection process).
    for (let i = 0; i < 5; i++) await Promise.all([1, 2, 3, 4, 5, 6].map(() => e.inspectContainer(id)));
    expect(
      (
        e as unknown as { http: { connection: { ssh: { connectionCount(): number } } } }
      ).http.connection.ssh.connectionCount(),
    ).toBe(1);
    expect(sshd.connectionPids()).toHaveLength(1);
  }, 60_000);

  it('more channels at once than sshd allows per connection (MaxSessions 10) still succeed', async () => {
    const e = engine();
    const infos = await Promise.all(Array.from({ length: 16 }, () => e.info()));
    expect(infos).toHaveLength(16);
    // The server refused the 11th session on the first connection: a second one carried the rest.
    expect(sshOf(e).connectionCount()).toBe(2);
  }, 60_000);

  it('reconnects after the ssh connection drops', async () => {
    const e = engine();
    await e.info();
    const before = sshd.connectionPids();
    expect(before.length).toBeGreaterThan(0);
    // Kill this engine's connection on the server side (every connection process of our own sshd).
    for (const pid of before) process.kill(pid, 'SIGKILL');
    await eventually('the connections to close', () =>
      sshd.connectionPids().every((p) => !before.includes(p)),
    );
    const info = await eventually('a call after the drop', () => e.info(), 20_000);
    expect(info.serverVersion).toBeTruthy();
    expect(sshd.connectionPids().some((p) => !before.includes(p))).toBe(true);
  }, 60_000);

  it('a host not in known_hosts is refused, naming the engine and the command that adds it', async () => {
    process.env.HOME = homeWith('', undefined);
    try {
      const err = await engine({ ssh: { user: 'root', identityFile: sshd.clientKey } })
        .info()
        .catch((x: Error) => x);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(
        /^engine remote1 \(ssh:\/\/root@127\.0\.0\.1:\d+\): the ssh host \[127\.0\.0\.1\]:\d+ is not in known_hosts/,
      );
      expect((err as Error).message).toContain(`ssh -p ${sshd.port} root@127.0.0.1 true`);
      expect((err as Error).message).toMatch(/SHA256:/);
    } finally {
      process.env.HOME = sshd.home;
    }
  });

  it('a changed host key is refused as such', async () => {
    const other = mkdtempSync(path.join(scratch, 'key-'));
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(other, 'k')]);
    const pub = spawnSync('cat', [path.join(other, 'k.pub')], { encoding: 'utf8' })
      .stdout.trim()
      .split(' ');
    process.env.HOME = homeWith(`[127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`);
    try {
      const err = await engine({ ssh: { user: 'root', identityFile: sshd.clientKey } })
        .info()
        .catch((x: Error) => x);
      expect((err as Error).message).toMatch(/is NOT a key known_hosts holds for it: refused/);
      expect((err as Error).message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
    } finally {
      process.env.HOME = sshd.home;
    }
  });

  it('a key the server does not accept: an authentication error naming what was tried', async () => {
    const other = mkdtempSync(path.join(scratch, 'key-'));
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(other, 'k')]);
    const err = await engine({ ssh: { user: 'root', identityFile: path.join(other, 'k') } })
      .info()
      .catch((x: Error) => x);
    expect((err as Error).message).toMatch(
      /^engine remote1 \(ssh:\/\/root@127\.0\.0\.1:\d+\): ssh authentication as root@127\.0\.0\.1 failed/,
    );
    expect((err as Error).message).toContain(path.join(other, 'k'));
  });

  it('identityFile, and keys held by ssh-agent, are used', async () => {
    process.env.HOME = homeWith(`${sshd.knownHostsLine}\n`);
    try {
      // No default key in this HOME: the named one must be what gets in.
      expect(
        (await engine({ ssh: { user: 'root', identityFile: sshd.clientKey } }).info()).serverVersion,
      ).toBeTruthy();
      const none = await engine()
        .info()
        .catch((x: Error) => x);
      expect((none as Error).message).toMatch(/tried no key at all/);
      // ssh-agent of our own, holding the key.
      const sock = path.join(scratch, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      try {
        await eventually('ssh-agent to listen', () => existsSync(sock), 10_000);
        const add = spawnSync('ssh-add', [sshd.clientKey], {
          env: { ...process.env, SSH_AUTH_SOCK: sock },
          encoding: 'utf8',
        });
        expect(add.status, add.stderr).toBe(0);
        process.env.SSH_AUTH_SOCK = sock;
        expect((await engine().info()).serverVersion).toBeTruthy();
      } finally {
        delete process.env.SSH_AUTH_SOCK;
        agent.kill('SIGTERM');
      }
    } finally {
      process.env.HOME = sshd.home;
    }
  }, 60_000);

  it('a Host alias of ~/.ssh/config: its HostName, Port, User and IdentityFile are where and how it connects', async () => {
    // No default key in this HOME: only the config's IdentityFile gets in; the alias resolves nowhere.
    process.env.HOME = homeWith(`${sshd.knownHostsLine}\n`);
    const config = path.join(scratch, 'ssh_config');
    writeFileSync(
      config,
      `Host agents-box\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n`,
    );
    const saved = process.env.AGENTCTL_SSH_CONFIG;
    process.env.AGENTCTL_SSH_CONFIG = config;
    try {
      const r = parseEngineHost('ssh://agents-box', {}, 'engines.box.host');
      expect(r).toEqual({
        ok: true,
        address: { host: '127.0.0.1', port: sshd.port, ssh: { user: 'root', identityFile: sshd.clientKey } },
      });
      if (!r.ok) return;
      const e = new DockerEngine(r.address, 30_000, 'box');
      engines.push(e);
      expect((await e.info()).serverVersion).toBe(d.docker('version', '--format', '{{.Server.Version}}'));
      // Without the config the alias is a host name that does not resolve: the file is what made it work.
      process.env.AGENTCTL_SSH_CONFIG = '';
      const bare = parseEngineHost('ssh://agents-box', {}, 'engines.box.host');
      expect(bare).toEqual({ ok: true, address: { host: 'agents-box', port: 22, ssh: {} } });
    } finally {
      if (saved === undefined) delete process.env.AGENTCTL_SSH_CONFIG;
      else process.env.AGENTCTL_SSH_CONFIG = saved;
      process.env.HOME = sshd.home;
    }
  }, 60_000);

  it('no docker CLI on the remote host, and no ssh server at all: clear errors naming the engine', async () => {
    const home = homeWith(`${noDocker.knownHostsLine}\n${sshd.knownHostsLine}\n`);
    process.env.HOME = home;
    try {
      const err = await engine({ ssh: { user: 'root', identityFile: noDocker.clientKey } }, noDocker.port)
        .info()
        .catch((x: Error) => x);
      expect((err as Error).message).toMatch(
        /^engine remote1 .*: the remote host has no docker CLI to run `docker system dial-stdio`/,
      );
    } finally {
      process.env.HOME = sshd.home;
    }
    const closed = await freePort();
    const err = await engine({}, closed)
      .info()
      .catch((x: Error) => x);
    expect((err as Error).message).toBe(
      `engine remote1 (ssh://root@127.0.0.1:${closed}): cannot reach the ssh server: nothing listens on 127.0.0.1:${closed} (connection refused)`,
    );
  }, 60_000);

  it("the remote HostFs: working directories on the engine's host, through a helper container there", async () => {
    process.env.HOME = sshd.home;
    const base = mkdtempSync('/tmp/i13-remote-rt-');
    const runtimeDir = path.join(base, 'rt'); // not there yet: the helper's bind mount makes it
    const workDir = path.join(runtimeDir, 'agent-working-directory', 'a');
    try {
      const remote = openRemoteEngine({
        name: 'remote1',
        host: `ssh://root@127.0.0.1:${sshd.port}`,
        identityFile: sshd.clientKey,
        runtimeDir,
      });
      expect(remote).toBeDefined();
      const host = remote!.host;
      expect(host.where).toBe('the host of engine remote1');
      await host.ensureWorkDir(runtimeDir, workDir);
      // The world: made on that engine's host (this machine's disk here), with the modes the rules ask.
      expect(statSync(workDir).isDirectory()).toBe(true);
      expect(statSync(path.dirname(workDir)).mode & 0o777).toBe(0o700);
      expect(await host.isEmptyDir(workDir)).toBe(true);
      writeFileSync(path.join(workDir, 'f'), 'data');
      symlinkSync('/etc', path.join(workDir, 'link'));
      await host.reownTree(workDir, 1234, 1235);
      expect(statSync(workDir).uid).toBe(1234);
      expect(statSync(path.join(workDir, 'f')).gid).toBe(1235);
      expect(lstatSync(path.join(workDir, 'link')).uid).toBe(1234);
      expect(statSync('/etc').uid).toBe(0); // the link was not followed
      expect(await host.lstat(path.join(workDir, 'link'))).toMatchObject({ type: 'symlink', uid: 1234 });
      expect((await host.readdir(workDir))?.sort()).toEqual(['f', 'link']);
      const refused = await host
        .assertNoSymlinks(runtimeDir, path.join(workDir, 'link', 'x'))
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ kind: 'unsafe' });
      expect(await host.spaceAt(runtimeDir)).toMatchObject({ isDirectory: true, writable: true });
      expect((await host.spaceAt(runtimeDir)).freeBytes).toBeGreaterThan(0);
      const outside = await host.lstat('/etc/passwd').catch((e: Error) => e);
      expect((outside as Error).message).toMatch(/outside its runtimeDir/);
      // Calls at once, as callers fan out.
      const stats = await Promise.all([1, 2, 3, 4].map(() => host.lstat(workDir)));
      expect(stats.every((st) => st?.type === 'directory')).toBe(true);
      await host.removeTree(workDir);
      expect(existsSync(workDir)).toBe(false);
      expect(existsSync('/etc/passwd')).toBe(true);
      // The helper runs on THAT engine, hardened, with only runtimeDir mounted.
      const helper = d.docker('ps', '-q', '--filter', 'label=agentctl.host-fs-helper=remote1');
      expect(helper).not.toBe('');
      const cfg = JSON.parse(d.docker('inspect', helper.split('\n')[0]!))[0];
      expect(cfg.HostConfig.Binds).toEqual([`${runtimeDir}:${runtimeDir}`]);
      expect(cfg.HostConfig.NetworkMode).toBe('none');
      expect(cfg.HostConfig.ReadonlyRootfs).toBe(true);
      expect(cfg.HostConfig.CapAdd.sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER']);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }, 300_000);
});
