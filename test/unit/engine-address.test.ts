import { describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../src/docker/engine-address.js';

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
      /is an engine on another machine, reached over ssh; agentctl bind-mounts/,
    ],
    [
      'tcp://lab:2375',
      'unsupported',
      /is an engine on another machine \(lab is not an address of this host\)/,
    ],
    ['tcp://10.9.9.9:2375', 'unsupported', /10\.9\.9\.9 is not an address of this host/],
    ['npipe:////./pipe/docker_engine', 'unsupported', /the npipe:\/\/ scheme is not supported/],
    ['fd://', 'unsupported', /the fd:\/\/ scheme is not supported/],
    ['https://127.0.0.1:2376', 'unsupported', /with https:\/\/ asks for TLS to the engine/],
  ])('DOCKER_HOST=%s -> %s', (host, kind, message) => {
    const r = parse({ DOCKER_HOST: host });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe(kind);
    expect(r.message).toMatch(message);
    if (!host.startsWith('https')) expect(r.message).not.toMatch(/TLS/);
  });

  it('TLS variables on a local tcp:// engine are refused as TLS, naming the variable', () => {
    const r = parse({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' });
    expect(r).toMatchObject({ ok: false, kind: 'unsupported' });
    expect(!r.ok && r.message).toMatch(/with DOCKER_TLS_VERIFY asks for TLS to the engine/);
    const c = parse({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_CERT_PATH: '/certs' });
    expect(!c.ok && c.message).toMatch(/with DOCKER_CERT_PATH asks for TLS/);
  });

  it('a remote engine with TLS is refused as remote: that is the reason that would remain', () => {
    const r = parse({ DOCKER_HOST: 'tcp://lab:2376', DOCKER_TLS_VERIFY: '1' });
    expect(!r.ok && r.message).toMatch(/is an engine on another machine/);
  });
});
