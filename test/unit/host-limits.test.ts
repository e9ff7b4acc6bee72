import { describe, expect, it } from 'vitest';
import { hostLimits, hostLimitWarnings, tasksOfLoadavg } from '../../src/reconcile/host-limits.js';
import { spec } from '../helpers/specs.js';

const agents = (n: number, over: Parameters<typeof spec>[1] = {}) =>
  Array.from({ length: n }, (_, i) => spec(`a-${i + 1}`, over));

describe('host limit warnings', () => {
  it.each([
    ['a roomy host', { pidMax: 4194304, tasks: 1000, memAvailableBytes: 2 ** 34 }, 100, []],
    [
      'a process table that the new agents fill',
      { pidMax: 32768, tasks: 20000, memAvailableBytes: 2 ** 34 },
      1000,
      [
        /^host process table: 20000 tasks now, about 32000 after starting 1000 agent\(s\), of kernel.pid_max 32768/,
        /pids limits add up to 1024000/,
      ],
    ],
    [
      'pids limits above pid_max only',
      { pidMax: 32768, tasks: 1000 },
      40,
      [/pids limits add up to 40960, more than kernel.pid_max 32768/],
    ],
    [
      'too little memory for the engine',
      { memAvailableBytes: 100 * 2 ** 20 },
      100,
      [/^host memory: 100 MiB available; the engine alone needs about 500 MiB/],
    ],
    [
      'the system running out of file handles',
      { fileMax: 100000, fileNr: 60000 },
      1000,
      [
        /^host open files: 60000 file handles open now, about 98000 after starting 1000 agent\(s\) \(38 each: shim, dockerd, containerd\), of fs.file-max 100000/,
      ],
    ],
    ['room for file handles', { fileMax: 2 ** 63, fileNr: 16000 }, 1000, []],
    [
      "1000 agents' health probes on 2 CPUs (every 5 min)",
      { cpus: 2 },
      1000,
      [
        /^engine CPU: the health probes of 1000 running agent\(s\) \(each 185 ms of engine CPU\) take about 62 % of a core, 31 % of this host's 2 CPU\(s\)/,
      ],
    ],
    ["300 agents' probes on 2 CPUs: under a tenth of the host", { cpus: 2 }, 300, []],
    ["1000 agents' probes on 8 CPUs", { cpus: 8 }, 1000, []],
  ] as const)('%s', (_, limits, n, expected) => {
    const fleet = agents(n);
    const got = hostLimitWarnings(limits, fleet, fleet);
    expect(got).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(got[i]).toMatch(re));
  });

  it.each([
    ['no healthcheck', { healthcheck: 'none' as const }],
    ["the image's own (its interval is not known)", { healthcheck: 'image' as const }],
    ['stopped agents (no probes)', { state: 'stopped' as const }],
    [
      'a probe every 30 min',
      {
        healthcheck: {
          command: ['/sbin/docker-init', '--version'],
          intervalMs: 1_800_000,
          timeoutMs: 30_000,
          retries: 3,
          startPeriodMs: 0,
        },
      },
    ],
  ])('counts no probe CPU for %s', (_what, over) => {
    const fleet = agents(1000, over);
    expect(hostLimitWarnings({ cpus: 2 }, fleet, fleet)).toEqual([]);
  });

  it('does not warn when nothing starts', () => {
    expect(hostLimitWarnings({ pidMax: 10, tasks: 100 }, [], agents(3))).toEqual([]);
  });

  it('reads this host', async () => {
    const l = await hostLimits();
    expect(l.pidMax).toBeGreaterThan(0);
    expect(l.tasks).toBeGreaterThan(0);
    expect(l.nofile).toBeGreaterThan(0);
  });
});

describe('the host task count', () => {
  it.each([
    ['0.92 6.02 9.75 2/3677 12345\n', 3677],
    ['0.00 0.00 0.00 1/83 7\n', 83],
    ['', undefined],
    ['garbage', undefined],
  ])('%j -> %s', (text, tasks) => {
    expect(tasksOfLoadavg(text)).toBe(tasks);
  });
});
