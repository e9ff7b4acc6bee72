import { describe, expect, it } from 'vitest';
import { THIS_HOST, machineOf, sameHostAs } from '../../src/fleet/same-host.js';

const names = new Set(['localhost', 'box1', '10.0.0.5']);

describe('machineOf: which engines share a disk', () => {
  it.each([
    ['local (DOCKER_HOST)', {}, THIS_HOST],
    ['a unix socket', { host: 'unix:///run/b.sock' }, THIS_HOST],
    ['tcp to loopback', { host: 'tcp://127.0.0.1:2375' }, THIS_HOST],
    ['tcp to an own address', { host: 'tcp://10.0.0.5:2375' }, THIS_HOST],
    ['ssh to loopback', { host: 'ssh://ops@127.0.0.1:2222' }, THIS_HOST],
    ['ssh to this host by name', { host: 'ssh://box1' }, THIS_HOST],
    ['ssh elsewhere', { host: 'ssh://ops@GPU-box:22' }, 'gpu-box'],
    ['ssh elsewhere, another user and port', { host: 'ssh://root@gpu-box:2200' }, 'gpu-box'],
    [
      'TLS elsewhere',
      { host: 'tcp://lab:2376', tls: { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' } },
      'lab',
    ],
  ])('%s', (_what, spec, machine) => {
    expect(machineOf(spec, names)).toBe(machine);
  });

  it('sameHostAs keeps the engines of one machine, in order', () => {
    const e = (name: string, host?: string) => ({ name, spec: { host } });
    const all = [
      e('local'),
      e('gpu', 'ssh://ops@gpu-box'),
      e('b', 'unix:///run/b.sock'),
      e('gpu2', 'ssh://gpu-box:2222'),
    ];
    expect(sameHostAs(all[0]!, all, names).map((x) => x.name)).toEqual(['local', 'b']);
    expect(sameHostAs(all[1]!, all, names).map((x) => x.name)).toEqual(['gpu', 'gpu2']);
  });
});
