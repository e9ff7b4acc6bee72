import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { isRemoteAddress, parseDockerHost, parseEngineHost } from '../../src/docker/engine-address.js';
import { hostConfig } from '../../src/docker/ssh-config.js';
import { THIS_HOST, machineOf } from '../../src/fleet/same-host.js';

// This host, as the parser would see it: its name and one interface address besides loopback.
const LOCAL = new Set(['localhost', 'box', '10.1.2.3', 'fe80::1']);
const parse = (env: NodeJS.ProcessEnv) => parseDockerHost(env, LOCAL);

describe('parseDockerHost: engines on this host are driven', () => {
  it.each([
    [{}, { socketPath: '/var/run/docker.sock' }],
    [{ DOCKER_HOST: '' }, { socketPath: '/var/run/docker.sock' }],
    [{ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, { socketPath: '/run/user/1000/docker.sock' }],
    [{ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, { host: '127.0.0.1', port: 2375 }],
    [{ DOCKER_HOST: 'tcp://127.8.9.10' }, { host: '127.8.9.10', port: 2375 }],
    [{ DOCKER_HOST: 'tcp://localhost:12345/' }, { host: 'localhost', port: 12345 }],
    [{ DOCKER_HOST: 'tcp://[::1]:2375' }, { host: '::1', port: 2375 }],
    [{ DOCKER_HOST: 'TCP://BOX:2375' }, { host: 'box', port: 2375 }],
    [{ DOCKER_HOST: 'tcp://10.1.2.3:2375' }, { host: '10.1.2.3', port: 2375 }],
    [{ DOCKER_HOST: 'http://127.0.0.1:2375' }, { host: '127.0.0.1', port: 2375 }],
  ])('%j -> %j', (env, address) => {
    expect(parse(env)).toEqual({ ok: true, address });
  });
});

describe('parseDockerHost: what it refuses, and why', () => {
  it.each([
    // Not an address at all: says what one looks like, and never mentions TLS (issue 8).
    ['garbage', 'usage', /^DOCKER_HOST=garbage is not an engine address: expected unix:\/\/\/path/],
    ['/var/run/docker.sock', 'usage', /is not an engine address: expected unix:\/\//],
    ['unix://docker.sock', 'usage', /a unix socket path must be absolute/],
    ['tcp://', 'usage', /is not an engine address/],
    ['tcp://127.0.0.1:notaport', 'usage', /is not an engine address/],
    ['tcp://127.0.0.1:2375/v1.41', 'usage', /a user, path or query in the address is not supported/],
    // Other machines: the working directory would be mounted from THEIR disk.
    [
      'ssh://ops@gpu-box',
      'unsupported',
      /is an engine on another machine, reached over ssh; agentctl bind-mounts .* needs a runtimeDir there: declare it in agents.yaml under engines:/,
    ],
    [
      'tcp://lab:2375',
      'unsupported',
      /is an engine on another machine \(lab is not an address of this host\) over plain tcp, which anyone on the network can drive/,
    ],
    ['tcp://10.9.9.9:2375', 'unsupported', /10\.9\.9\.9 is not an address of this host/],
    ['npipe:////./pipe/docker_engine', 'unsupported', /the npipe:\/\/ scheme is not supported/],
    ['fd://', 'unsupported', /the fd:\/\/ scheme is not supported/],
  ])('DOCKER_HOST=%s -> %s', (host, kind, message) => {
    const r = parse({ DOCKER_HOST: host });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe(kind);
    expect(r.message).toMatch(message);
    if (!host.startsWith('tcp')) expect(r.message).not.toMatch(/TLS/);
  });

  it("TLS variables on a local tcp:// engine: TLS with the docker CLI's files (verification on)", () => {
    expect(
      parse({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }),
    ).toEqual({
      ok: true,
      address: {
        host: '127.0.0.1',
        port: 2376,
        tls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' },
      },
    });
    const https = parse({ DOCKER_HOST: 'https://127.0.0.1', DOCKER_CERT_PATH: '/c' });
    expect(https).toMatchObject({ ok: true, address: { port: 2376, tls: { ca: '/c/ca.pem' } } });
    // DOCKER_CERT_PATH alone means TLS without verification to the docker CLI: never here.
    const c = parse({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: '/certs' });
    expect(!c.ok && c.message).toMatch(
      /DOCKER_CERT_PATH but no DOCKER_TLS_VERIFY .* set DOCKER_TLS_VERIFY=1/,
    );
  });

  it('a remote engine with TLS is refused as remote, saying how to declare it', () => {
    const r = parse({ DOCKER_HOST: 'tcp://lab:2376', DOCKER_TLS_VERIFY: '1' });
    expect(!r.ok && r.message).toMatch(
      /is an engine on another machine .*declare it in agents.yaml under engines:/,
    );
  });
});

describe('parseEngineHost: the host of an engine declared under engines:', () => {
  const tls = { ca: '/t/ca.pem', cert: '/t/cert.pem', key: '/t/key.pem' };
  // No ~/.ssh/config: the machine's own must not change what these cases mean.
  const eng = (raw: string, extra = {}) =>
    parseEngineHost(raw, extra, 'engines.x.host', LOCAL, () => undefined);
  it.each([
    ['ssh://ops@gpu-box', {}, { host: 'gpu-box', port: 22, ssh: { user: 'ops' } }],
    ['ssh://gpu-box:2222', {}, { host: 'gpu-box', port: 2222, ssh: {} }],
    [
      'ssh://ops@10.0.0.5',
      { identityFile: '/k' },
      { host: '10.0.0.5', port: 22, ssh: { user: 'ops', identityFile: '/k' } },
    ],
    ['tcp://lab:2376', { tls }, { host: 'lab', port: 2376, tls }],
    ['tcp://127.0.0.1:2375', {}, { host: '127.0.0.1', port: 2375 }],
    ['unix:///run/docker2.sock', {}, { socketPath: '/run/docker2.sock' }],
  ])('%s %j -> %j', (raw, extra, address) => {
    expect(eng(raw, extra)).toEqual({ ok: true, address });
  });

  it.each([
    ['tcp://lab:2375', {}, 'unsupported', /plain tcp to another machine .* give tls: \{ca, cert, key\}/],
    ['https://lab', {}, 'usage', /https:\/\/ needs tls:/],
    ['ssh://ops@gpu-box', { tls }, 'usage', /tls: applies to a tcp:\/\/ engine only/],
    [
      'tcp://lab:2376',
      { tls, identityFile: '/k' },
      'usage',
      /identityFile applies to an ssh:\/\/ engine only/,
    ],
    ['ssh://ops:secret@gpu-box', {}, 'usage', /a password, path or query in the address is not supported/],
    ['gpu-box', {}, 'usage', /^engines\.x\.host: gpu-box is not an engine address: expected unix/],
  ])('%s %j -> %s', (raw, extra, kind, message) => {
    const r = eng(raw, extra);
    expect(r).toMatchObject({ ok: false, kind });
    expect(!r.ok && r.message).toMatch(message);
  });

  it('isRemoteAddress: ssh always, tcp unless an address of this host, sockets never', () => {
    expect(isRemoteAddress({ host: 'box', port: 22, ssh: {} }, LOCAL)).toBe(true);
    expect(isRemoteAddress({ host: 'lab', port: 2376, tls }, LOCAL)).toBe(true);
    expect(isRemoteAddress({ host: '127.0.0.1', port: 2376, tls }, LOCAL)).toBe(false);
    expect(isRemoteAddress({ socketPath: '/x' }, LOCAL)).toBe(false);
  });
});

describe('parseEngineHost with ~/.ssh/config: an ssh host is what `ssh HOST` reaches', () => {
  const file = '/home/u/.ssh/config';
  const config = SSHConfig.parse(
    [
      'Host gpu-box',
      '  HostName 10.0.0.5',
      '  User ops',
      '  Port 2222',
      '  IdentityFile ~/.ssh/gpu_key',
      'Host *.lab',
      '  HostName %h.example.com',
      'Host jump-box',
      '  HostName 10.0.0.9',
      '  ProxyJump bastion',
      'Host direct',
      '  ProxyCommand none',
      'Host rel-key',
      '  IdentityFile keys/k',
      'Host *',
      '  User everyone',
    ].join('\n'),
  );
  const lookup = (alias: string) => hostConfig(config, alias, file);
  const eng = (raw: string, extra = {}) => parseEngineHost(raw, extra, 'engines.x.host', LOCAL, lookup);
  const home = os.homedir();

  it.each([
    [
      'the alias: HostName, User, Port and IdentityFile from the file',
      'ssh://gpu-box',
      {},
      { host: '10.0.0.5', port: 2222, ssh: { user: 'ops', identityFile: path.join(home, '.ssh/gpu_key') } },
    ],
    [
      "the address's user and port, and agents.yaml's identityFile, win over the file",
      'ssh://root@gpu-box:22',
      { identityFile: '/k' },
      { host: '10.0.0.5', port: 22, ssh: { user: 'root', identityFile: '/k' } },
    ],
    [
      '%h in HostName is the alias',
      'ssh://a.lab',
      {},
      { host: 'a.lab.example.com', port: 22, ssh: { user: 'everyone' } },
    ],
    [
      'ProxyCommand none is no proxy',
      'ssh://direct',
      {},
      { host: 'direct', port: 22, ssh: { user: 'everyone' } },
    ],
    [
      'a host the file does not name: only Host *',
      'ssh://other',
      {},
      { host: 'other', port: 22, ssh: { user: 'everyone' } },
    ],
  ])('%s: %s', (_why, raw, extra, address) => {
    expect(eng(raw, extra)).toEqual({ ok: true, address });
  });

  it.each([
    [
      'ssh://jump-box',
      /config gives host jump-box "ProxyJump bastion", which agentctl's ssh client does not implement/,
    ],
    ['ssh://rel-key', /"IdentityFile keys\/k \(a relative path: give it from \/ or ~\/\)"/],
  ])('%s is refused, never reached some other way', (raw, message) => {
    const r = eng(raw);
    expect(r).toMatchObject({ ok: false, kind: 'unsupported' });
    expect(!r.ok && r.message).toMatch(message);
  });

  it('machineOf: an alias for this host is this host; one for another machine is that machine', () => {
    const here = SSHConfig.parse('Host me\n  HostName 127.0.0.1\nHost far\n  HostName GPU-Box\n');
    const look = (alias: string) => hostConfig(here, alias, file);
    expect(machineOf({ host: 'ssh://me' }, LOCAL, look)).toBe(THIS_HOST);
    expect(machineOf({ host: 'ssh://far' }, LOCAL, look)).toBe(
      machineOf({ host: 'ssh://gpu-box' }, LOCAL, look),
    );
  });
});
