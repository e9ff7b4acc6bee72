/** Which dockerd and containerd serve an engine's socket, and when their open files would run out. */
import { describe, expect, it } from 'vitest';
import {
  descriptorWarnings,
  dockerdSockets,
  nofileWarnings,
  type EngineProc,
  pickEngine,
} from '../../src/reconcile/engine-descriptors.js';
import { openFilesLimits, softOpenFiles } from '../../src/util/proc-number.js';
import { spec } from '../helpers/specs.js';

describe("a dockerd's sockets, from its command line", () => {
  it.each([
    ['no host given: the default socket', ['dockerd'], ['/var/run/docker.sock']],
    ['--host VALUE', ['dockerd', '--host', 'unix:///run/b.sock', '--data-root', '/x'], ['/run/b.sock']],
    ['-H=VALUE, twice', ['dockerd', '-H=unix:///run/a.sock', '-H', 'tcp://0.0.0.0:2375'], ['/run/a.sock']],
    ['tcp only: no socket here', ['dockerd', '--host=tcp://127.0.0.1:2375'], []],
  ])('%s', (_, args, expected) => {
    expect(dockerdSockets(args)).toEqual(expected);
  });
});

describe('the engine behind a socket', () => {
  const procs: EngineProc[] = [
    { pid: 100, comm: 'dockerd', ppid: 1, args: ['/usr/bin/dockerd'] },
    {
      pid: 101,
      comm: 'containerd',
      ppid: 100,
      args: ['containerd', '--config', '/var/run/docker/containerd/containerd.toml'],
    },
    {
      pid: 200,
      comm: 'dockerd',
      ppid: 1,
      args: ['dockerd', '--host', 'unix:///run/own.sock', '--containerd=/run/containerd/containerd.sock'],
    },
    { pid: 300, comm: 'containerd', ppid: 1, args: ['/usr/bin/containerd'] },
  ];
  it.each([
    ['the default dockerd, by /var/run', '/var/run/docker.sock', 100, 101],
    ['the default dockerd, by /run', '/run/docker.sock', 100, 101],
    ['a dockerd of its own socket, told of the system containerd', '/run/own.sock', 200, 300],
    ['a socket no dockerd here serves', '/run/elsewhere.sock', undefined, undefined],
  ])('%s', (_, socket, dockerd, containerd) => {
    const got = pickEngine(procs, socket);
    expect(got.dockerd?.pid).toBe(dockerd);
    expect(got.containerd?.pid).toBe(containerd);
  });

  it('leaves the containerd out when it cannot tell which one', () => {
    const two = [...procs, { pid: 301, comm: 'containerd', ppid: 1, args: ['containerd'] }];
    expect(pickEngine(two, '/run/own.sock')).toMatchObject({ dockerd: { pid: 200 }, containerd: undefined });
  });
});

describe("warnings before the engine's open files run out", () => {
  const dockerd = { name: 'dockerd', pid: 100, fds: 300, softLimit: 1024 } as const;
  const containerd = { name: 'containerd', pid: 101, fds: 200, softLimit: 1024 } as const;
  it.each([
    ['room for 100 more (dockerd 7 each, containerd 5)', [dockerd, containerd], 100, []],
    [
      "dockerd's limit passed",
      [dockerd, containerd],
      104,
      [
        /^engine descriptors: dockerd \(pid 100\) has 300 files open of its limit 1024; about 1028 after starting 104 agent\(s\) \(7 each\): creating and starting agents will fail \("too many open files"\)/,
      ],
    ],
    [
      'both passed',
      [dockerd, containerd],
      200,
      [
        /^engine descriptors: dockerd .* about 1700 after/,
        /^engine descriptors: containerd \(pid 101\) has 200 files open of its limit 1024; about 1200 after starting 200 agent\(s\) \(5 each\)/,
      ],
    ],
    ['no limit read', [{ ...dockerd, softLimit: undefined }], 1000, []],
    ['nothing starts', [{ ...dockerd, fds: 5000 }], 0, []],
  ] as const)('%s', (_, found, starting, expected) => {
    const got = descriptorWarnings(found, starting);
    expect(got).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(got[i]).toMatch(re));
  });
});

describe("agents' nofile against the engine's hard limit", () => {
  const dockerd = { name: 'dockerd', pid: 100, fds: 30, softLimit: 400, hardLimit: 400 } as const;
  const containerd = { name: 'containerd', pid: 101, fds: 20, softLimit: 400, hardLimit: 400 } as const;
  const nofile = (hard: number) => ({ ulimits: { nofile: { soft: Math.min(hard, 1024), hard } } });
  const agents = (n: number, hard = 2048) =>
    Array.from({ length: n }, (_, i) => spec(`a${i + 1}`, nofile(hard)));
  it.each([
    [
      "the default 2048 above containerd's 400",
      [dockerd, containerd],
      agents(2),
      [
        /^engine open-files limit: 2 agent\(s\) \(a1, a2\) ask for nofile up to 2048, above the hard limit 400 that containerd \(pid 101\) starts them under: their start will fail \("error setting rlimit type 7: operation not permitted"\)\. Lower ulimits\.nofile to at most 400/,
      ],
    ],
    [
      "dockerd's, when its containerd was not found",
      [dockerd],
      agents(7),
      [
        /^engine open-files limit: 7 agent\(s\) \(a1, a2, a3, a4, a5, and 2 more\) .* that dockerd \(pid 100\)/,
      ],
    ],
    ['agents within it', [dockerd, containerd], agents(3, 400), []],
    ['no agent without a nofile limit', [dockerd, containerd], [spec('a', { ulimits: {} })], []],
    ['an unlimited engine', [{ ...containerd, hardLimit: undefined }], agents(2), []],
    ['nothing starts', [dockerd, containerd], [], []],
  ] as const)('%s', (_, found, starting, expected) => {
    const got = nofileWarnings(found, starting);
    expect(got).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(got[i]).toMatch(re));
  });
});

describe('Max open files of /proc/PID/limits', () => {
  const text = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax processes             127437               127437               processes\nMax open files            ${soft}                 ${hard}                 files\n`;
  it.each([
    [text('1024', '4096'), 1024, 4096],
    [text('400', '400'), 400, 400],
    [text('unlimited', 'unlimited'), undefined, undefined],
    ['', undefined, undefined],
  ])('soft and hard', (limits, soft, hard) => {
    expect(openFilesLimits(limits)).toEqual({ soft, hard });
    expect(softOpenFiles(limits)).toBe(soft);
  });
});
