/** Pure pieces of the operating commands: durations, stats arithmetic, engine headers, messages. */
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePathStat } from '../../src/docker/path-stat.js';
import { toStatsSample } from '../../src/docker/stats-sample.js';
import { parseCopyArg, agentPath } from '../../src/ops/cp.js';
import { flagProblem } from '../../src/cli/agent-flags.js';
import { cpuPercent } from '../../src/ops/stats.js';
import { humanBytes } from '../../src/render/units.js';
import { diskUsage } from '../../src/util/disk-usage.js';
import { parseDuration, parseSince } from '../../src/util/duration.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['0s', 0],
    ['45', 45_000],
    ['1.5h', 5_400_000],
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '7 d', '-1d', '1y', '10m junk'])('refuses %j as a usage error', (text) =>
    expect(() => parseDuration(text, '--older-than')).toThrow(
      expect.objectContaining({ kind: 'usage', message: expect.stringMatching(/^--older-than: /) }),
    ),
  );

  it('reads --since as a duration ago, an RFC 3339 time or unix seconds', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(parseSince('10m', now)).toBe((now - 600_000) / 1000);
    expect(parseSince('2024-05-01T10:00:00Z', now)).toBe(Date.parse('2024-05-01T10:00:00Z') / 1000);
    expect(parseSince('1714557600', now)).toBe(1714557600);
    expect(() => parseSince('yesterday', now)).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(() => parseSince('2024-13-45', now)).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('stats arithmetic', () => {
  const sample = (over: Record<string, unknown> = {}) =>
    toStatsSample({
      read: '2024-05-01T12:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: 3e9 }, system_cpu_usage: 100e9, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 98e9 },
      memory_stats: {
        usage: 100 * 1024 ** 2,
        limit: 512 * 1024 ** 2,
        stats: { total_inactive_file: 20 * 1024 ** 2 },
      },
      pids_stats: { current: 7 },
      ...over,
    });

  it("computes CPU % as docker stats does, against the engine's previous sample", () => {
    // 1 s of CPU in 2 s of (two-CPU) host time: half the host, i.e. one CPU = 100 %.
    expect(cpuPercent(sample())).toBe(100);
  });

  it('uses our own previous sample when given, and has none on a first one-shot', () => {
    const oneShot = sample({ precpu_stats: { cpu_usage: { total_usage: 0 } } });
    expect(oneShot.preCpuTotalNs).toBeUndefined();
    expect(cpuPercent(oneShot)).toBeUndefined();
    const prev = { ...oneShot, cpuTotalNs: 2.5e9, systemCpuNs: 99e9 };
    expect(cpuPercent(oneShot, prev)).toBe(100);
  });

  it('counts memory without the inactive file cache (cgroup v1 and v2 names)', () => {
    expect(sample().memoryBytes).toBe(80 * 1024 ** 2);
    const v2 = sample({ memory_stats: { usage: 1000, limit: 2000, stats: { inactive_file: 300 } } });
    expect([v2.memoryBytes, v2.memoryLimitBytes]).toEqual([700, 2000]);
    expect(sample().pids).toBe(7);
  });
});

describe('archive path stat header', () => {
  const header = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64');
  it('decodes Go file modes: directory, symlink, permissions', () => {
    expect(parsePathStat(header({ name: 'mnt', size: 4096, mode: 2 ** 31 + 0o755, linkTarget: '' }))).toEqual(
      {
        name: 'mnt',
        size: 4096,
        isDir: true,
        isSymlink: false,
        linkTarget: '',
        mode: 0o755,
      },
    );
    // As the engine reported /mnt/evil -> /etc/passwd.
    expect(
      parsePathStat(header({ name: 'evil', size: 11, mode: 134218239, linkTarget: '/etc/passwd' })),
    ).toMatchObject({ isDir: false, isSymlink: true, mode: 0o777, linkTarget: '/etc/passwd' });
    expect(parsePathStat(undefined)).toBeUndefined();
    expect(parsePathStat('not base64 json')).toBeUndefined();
  });
});

describe('cp arguments', () => {
  it('tells agent paths from host paths', () => {
    expect(parseCopyArg('agent-1:/mnt/x')).toEqual({ kind: 'agent', agent: 'agent-1', path: '/mnt/x' });
    expect(parseCopyArg('w.2:out')).toEqual({ kind: 'agent', agent: 'w.2', path: 'out' });
    expect(parseCopyArg('./a:b')).toEqual({ kind: 'host', path: './a:b' });
    expect(parseCopyArg('/abs/a:b')).toEqual({ kind: 'host', path: '/abs/a:b' });
    expect(parseCopyArg('file.txt')).toEqual({ kind: 'host', path: 'file.txt' });
  });
  it('puts relative agent paths under /mnt and refuses ".."', () => {
    expect(agentPath('out/x')).toBe('/mnt/out/x');
    expect(agentPath('/tmp/agent/y')).toBe('/tmp/agent/y');
    expect(() => agentPath('/mnt/../etc/passwd')).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(() => agentPath('')).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('run flag messages', () => {
  it('names the flag that set a field, from the field path the library reports (no position)', () => {
    const at = (path: (string | number)[], reason: string) => ({ message: 'm', path, reason });
    expect(flagProblem(at(['agents', 'a-1', 'memory'], 'expected a size like 512m'))).toBe(
      '--memory: expected a size like 512m',
    );
    expect(flagProblem(at(['agents', 'a.b', 'cpus'], 'must be > 0'))).toBe('--cpus: must be > 0');
    expect(flagProblem(at(['agents', 'a', 'ulimits', 'nofile'], 'soft exceeds hard'))).toBe(
      '--ulimit nofile: soft exceeds hard',
    );
    expect(flagProblem(at(['agents', 'a', 'command', 0], 'must not be empty'))).toBe(
      'the command [0]: must not be empty',
    );
    expect(flagProblem(at(['project'], 'must be lower-case'))).toBe('--project: must be lower-case');
    // A field no flag sets, or a problem without a path: the caller keeps the library's message.
    expect(flagProblem(at(['agents', 'a', 'healthcheck'], 'x'))).toBeUndefined();
    expect(flagProblem({ message: 'm' })).toBeUndefined();
  });
});

describe('diskUsage', () => {
  const top = mkdtempSync(path.join(os.tmpdir(), 'agentctl-du-'));
  afterAll(() => rmSync(top, { recursive: true, force: true }));

  it('counts blocks once per inode, never follows symlinks, and says when it stopped early', async () => {
    const outside = path.join(top, 'outside');
    const dir = path.join(top, 'dir');
    mkdirSync(outside);
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(outside, 'big'), Buffer.alloc(1024 * 1024, 1));
    writeFileSync(path.join(dir, 'sub', 'a'), Buffer.alloc(64 * 1024, 1));
    linkSync(path.join(dir, 'sub', 'a'), path.join(dir, 'hard'));
    symlinkSync(outside, path.join(dir, 'to-outside'));
    symlinkSync(path.join(outside, 'big'), path.join(dir, 'to-big'));

    const usage = await diskUsage(dir);
    expect(usage?.complete).toBe(true);
    expect(usage?.entries).toBe(6); // dir, sub, a, hard, two links
    // 64 KiB of data once, plus directory and link blocks: far less than the 1 MiB outside.
    expect(usage?.bytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(usage?.bytes).toBeLessThan(512 * 1024);

    const bounded = await diskUsage(dir, { maxEntries: 2 });
    expect(bounded?.complete).toBe(false);
    expect(await diskUsage(path.join(top, 'missing'))).toBeUndefined();
  });

  it('prints sizes for people', () => {
    expect([0, 1023, 1536, 10 * 1024 ** 2, 5.5 * 1024 ** 3].map(humanBytes)).toEqual([
      '0B',
      '1023B',
      '1.5KiB',
      '10MiB',
      '5.5GiB',
    ]);
  });
});
