/** Reading a container's stats from its cgroup files: where they are (v1, v2, systemd), and what they say. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuSample, cgroupSample, layoutFrom } from '../../src/docker/cgroup-stats.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const R = '/cg';

describe('layoutFrom /proc/<pid>/cgroup', () => {
  it.each([
    [
      'v1, cgroupfs driver (hybrid: an empty unified line too)',
      `12:pids:/docker/${ID}\n4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n1:cpu:/docker/${ID}\n0::/docker/${ID}\n`,
      {
        version: 1,
        dirs: {
          pids: `${R}/pids/docker/{id}`,
          memory: `${R}/memory/docker/{id}`,
          cpuacct: `${R}/cpuacct/docker/{id}`,
        },
      },
    ],
    [
      'v1, systemd driver, cpu and cpuacct mounted together',
      `5:cpu,cpuacct:/system.slice/docker-${ID}.scope\n3:memory:/system.slice/docker-${ID}.scope\n2:pids:/system.slice/docker-${ID}.scope\n`,
      {
        version: 1,
        dirs: {
          cpuacct: `${R}/cpuacct/system.slice/docker-{id}.scope`,
          memory: `${R}/memory/system.slice/docker-{id}.scope`,
          pids: `${R}/pids/system.slice/docker-{id}.scope`,
        },
      },
    ],
    [
      'v2 alone',
      `0::/system.slice/docker-${ID}.scope\n`,
      { version: 2, dirs: { unified: `${R}/system.slice/docker-{id}.scope` } },
    ],
  ])('%s', (_what, text, layout) => {
    expect(layoutFrom(text, ID, R)).toEqual(layout);
  });

  it.each([
    [
      'paths that do not name the container (agentctl itself in a container, another cgroup namespace)',
      `4:memory:/\n2:cpuacct:/\n8:pids:/\n`,
    ],
    ['v1 without the pids controller', `4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n`],
    ['v2 at the root', '0::/\n'],
    ['nothing', ''],
  ])('none for %s', (_what, text) => {
    expect(layoutFrom(text, ID, R)).toBeUndefined();
  });
});

describe('cgroupSample', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tree = (files: Record<string, string>) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'agentctl-cgroup-'));
    dirs.push(root);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    return root;
  };
  // user nice system idle iowait irq softirq steal: the engine sums the first seven.
  const STAT =
    'cpu  100 5 50 800 10 1 4 30 0 0\ncpu0 50 2 25 400 5 0 2 15 0 0\ncpu1 50 3 25 400 5 1 2 15 0 0\nintr 1\n';
  const SYSTEM_NS = ((100 + 5 + 50 + 800 + 10 + 1 + 4) * 1e9) / 100;

  it('v1: CPU time, memory without the inactive file cache, the limit, pids', () => {
    const root = tree({
      'proc/stat': STAT,
      [`cg/cpuacct/docker/${ID}/cpuacct.usage`]: '123456789\n',
      [`cg/memory/docker/${ID}/memory.usage_in_bytes`]: '10485760\n',
      [`cg/memory/docker/${ID}/memory.limit_in_bytes`]: '67108864\n',
      [`cg/memory/docker/${ID}/memory.stat`]: 'cache 4096\ninactive_file 1\ntotal_inactive_file 2097152\n',
      [`cg/pids/docker/${ID}/pids.current`]: '3\n',
    });
    const layout = layoutFrom(
      `8:pids:/docker/${ID}\n4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n`,
      ID,
      `${root}/cg`,
    );
    expect(cgroupSample(layout!, ID, `${root}/proc`)).toEqual({
      read: expect.any(String),
      cpuTotalNs: 123456789,
      systemCpuNs: SYSTEM_NS,
      onlineCpus: 2,
      memoryBytes: 10485760 - 2097152,
      memoryLimitBytes: 67108864,
      pids: 3,
      from: 'cgroup',
    });
    // The CPU-only sample (the first of CPU %'s two) gives the same CPU figures.
    expect(cgroupCpuSample(layout!, ID, `${root}/proc`)).toEqual({
      cpuTotalNs: 123456789,
      systemCpuNs: SYSTEM_NS,
      from: 'cgroup',
    });
  });

  it('v2: usage_usec in ns, memory.max "max" is the machine memory (as the engine reports it)', () => {
    const d = `cg/system.slice/docker-${ID}.scope`;
    const root = tree({
      'proc/stat': STAT,
      [`${d}/cpu.stat`]: 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
      [`${d}/memory.current`]: '5000000\n',
      [`${d}/memory.max`]: 'max\n',
      [`${d}/memory.stat`]: 'anon 1\ninactive_file 1000000\n',
      [`${d}/pids.current`]: '1\n',
    });
    const layout = layoutFrom(`0::/system.slice/docker-${ID}.scope\n`, ID, `${root}/cg`);
    expect(cgroupSample(layout!, ID, `${root}/proc`)).toMatchObject({
      cpuTotalNs: 2_500_000,
      memoryBytes: 4_000_000,
      memoryLimitBytes: os.totalmem(),
      pids: 1,
      from: 'cgroup',
    });
    expect(cgroupCpuSample(layout!, ID, `${root}/proc`)).toEqual({
      cpuTotalNs: 2_500_000,
      systemCpuNs: SYSTEM_NS,
      from: 'cgroup',
    });
  });

  it('none for a container whose cgroup is not there (stopped, or another engine’s), or a bad id', () => {
    const root = tree({ 'proc/stat': STAT, [`cg/pids/docker/${ID}/pids.current`]: '1\n' });
    const layout = layoutFrom(
      `8:pids:/docker/${ID}\n4:memory:/docker/${ID}\n2:cpuacct:/docker/${ID}\n`,
      ID,
      `${root}/cg`,
    );
    expect(cgroupSample(layout!, OTHER, `${root}/proc`)).toBeUndefined();
    expect(cgroupSample(layout!, ID, `${root}/proc`)).toBeUndefined(); // memory files missing
    expect(cgroupSample(layout!, '../../etc', `${root}/proc`)).toBeUndefined();
    expect(cgroupCpuSample(layout!, ID, `${root}/proc`)).toBeUndefined(); // cpuacct missing
    expect(cgroupCpuSample(layout!, '../../etc', `${root}/proc`)).toBeUndefined();
  });
});
