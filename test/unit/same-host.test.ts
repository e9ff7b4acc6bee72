import { describe, expect, it } from 'vitest';
import { THIS_HOST, machineOf, machinesOf, sameHostAs } from '../../src/fleet/same-host.js';

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
    const machines = machinesOf(all, names);
    expect(sameHostAs(all[0]!, all, machines).map((x) => x.name)).toEqual(['local', 'b']);
    expect(sameHostAs(all[1]!, all, machines).map((x) => x.name)).toEqual(['gpu', 'gpu2']);
  });
});

describe('machinesOf: the address, and the host name each engine gives', () => {
  const tls = { ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' };
  const e = (name: string, host?: string, hostName?: string) => ({
    name,
    spec: { host, ...(host?.startsWith('tcp://') && { tls }) },
    ...(hostName !== undefined && { hostName }),
  });

  it('without host names, the addresses decide, as machineOf', () => {
    const all = [e('local'), e('gpu', 'ssh://gpu-box'), e('lab', 'tcp://lab:2376')];
    expect(Object.fromEntries(machinesOf(all, names))).toEqual({
      local: THIS_HOST,
      gpu: 'gpu-box',
      lab: 'lab',
    });
  });

  it('one machine written by name and by IP is one machine when both engines give its host name', () => {
    const all = [
      e('local', undefined, 'box1'),
      e('a', 'tcp://gpu-box:2376', 'GPU'),
      e('b', 'ssh://10.9.9.9', 'gpu'),
    ];
    const m = machinesOf(all, names);
    expect(m.get('a')).toBe(m.get('b'));
    expect(m.get('a')).toBe('10.9.9.9'); // the first in sorted order, whichever engine comes first
    expect(machinesOf([...all].reverse(), names).get('a')).toBe('10.9.9.9');
    expect(m.get('local')).toBe(THIS_HOST);
  });

  it("an engine by an alias this host's names do not know is this host when it gives this host's name", () => {
    // /etc/hosts: 127.0.0.1 lab-alias; the engine there is a dockerd of this machine.
    const all = [
      e('local', undefined, 'box1'),
      e('lab', 'tcp://lab-alias:2376', 'box1'),
      e('far', 'ssh://far', 'far1'),
    ];
    expect(Object.fromEntries(machinesOf(all, names))).toEqual({
      local: THIS_HOST,
      lab: THIS_HOST,
      far: 'far',
    });
    // Even when the local engine did not answer: the name is this host's.
    expect(machinesOf([e('local'), all[1]!], names).get('lab')).toBe(THIS_HOST);
  });

  it('joins through any engine: a, b by host name, b, c by address', () => {
    const all = [
      e('a', 'ssh://x1', 'h'),
      e('b', 'ssh://x2', 'h'),
      e('c', 'ssh://x2:2222'),
      e('d', 'ssh://x3', 'other'),
    ];
    const m = machinesOf(all, names);
    expect([m.get('a'), m.get('b'), m.get('c'), m.get('d')]).toEqual(['x1', 'x1', 'x1', 'x3']);
  });

  it('an engine that gave no host name is placed by its address alone', () => {
    const m = machinesOf([e('a', 'ssh://x1', 'h'), e('b', 'ssh://x2')], names);
    expect([m.get('a'), m.get('b')]).toEqual(['x1', 'x2']);
  });
});
