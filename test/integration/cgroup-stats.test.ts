/**
 * stats read from a runc agent's cgroup on this host say what the engine's own stats call says (the
 * engine's answer takes a second per call on dockerd 20.10, so 1000 agents took over a minute).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/docker/engine.js';
import { getStats } from '../../src/ops/stats.js';
import { docker } from '../helpers/docker.js';
import { eventually } from '../helpers/eventually.js';
import { appliedProject, type TestProject } from '../helpers/project.js';

const MiB = 1024 ** 2;

describe('stats from cgroup files (real engine)', () => {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) p.cleanup();
  });

  it('match the engine: memory, limit, pids; CPU time between two engine samples', async () => {
    const p = await appliedProject(
      projects,
      'cgstats',
      'agents:\n  busy: { command: ["sh", "-c", "head -c 8000000 /dev/zero > /tmp/agent/f; while :; do :; done"], cpus: 0.5, memory: 96m, network: none }',
    );
    const id = docker('inspect', '-f', '{{.Id}}', `${p.prefix}busy`);
    const engine = new DockerEngine();
    // Let it write its file (tmpfs: counted as the container's memory) and spin a little; on a loaded
    // machine the write can take longer than any fixed pause, so wait until the engine sees it.
    await eventually(
      'the agent to write its 8 MB file',
      async () => ((await engine.containerStats(id, { oneShot: true }))?.memoryBytes ?? 0) > 8_000_000,
    );
    const before = await engine.containerStats(id, { oneShot: true });
    const cpu = await engine.containerCpu(id, { runtime: '' });
    const mine = await engine.containerStats(id, { oneShot: true, runtime: '' });
    const after = await engine.containerStats(id, { oneShot: true });
    expect(before?.from).toBe('engine');
    expect(cpu?.from).toBe('cgroup');
    expect(mine?.from).toBe('cgroup');
    expect(after?.from).toBe('engine');
    expect(mine?.memoryLimitBytes).toBe(96 * MiB);
    expect(mine?.memoryLimitBytes).toBe(after?.memoryLimitBytes);
    expect(mine?.pids).toBe(after?.pids);
    expect(mine?.onlineCpus).toBe(after?.onlineCpus);
    // The 8 MB file and the shell: both samples see it; they differ only by what changed between them.
    expect(mine?.memoryBytes).toBeGreaterThan(8_000_000);
    expect(Math.abs((mine?.memoryBytes ?? 0) - (after?.memoryBytes ?? 0))).toBeLessThan(2 * MiB);
    // Cumulative CPU time and host time, in the same units as the engine's and taken between them.
    expect(mine?.cpuTotalNs).toBeGreaterThanOrEqual(before?.cpuTotalNs ?? Infinity);
    expect(mine?.cpuTotalNs).toBeLessThanOrEqual(after?.cpuTotalNs ?? 0);
    expect(mine?.systemCpuNs).toBeGreaterThanOrEqual(before?.systemCpuNs ?? Infinity);
    expect(mine?.systemCpuNs).toBeLessThanOrEqual(after?.systemCpuNs ?? 0);
    // The CPU-only sample (the first of the two CPU % is computed from), taken between before and mine.
    expect(cpu?.cpuTotalNs).toBeGreaterThanOrEqual(before?.cpuTotalNs ?? Infinity);
    expect(cpu?.cpuTotalNs).toBeLessThanOrEqual(mine?.cpuTotalNs ?? 0);
    expect(cpu?.systemCpuNs).toBeGreaterThanOrEqual(before?.systemCpuNs ?? Infinity);
    expect(cpu?.systemCpuNs).toBeLessThanOrEqual(mine?.systemCpuNs ?? 0);

    // The command's rows come from the cgroup too; a spinning agent at cpus 0.5 shows busy.
    const [row] = await getStats({ project: p.project });
    expect(row?.agent).toBe('busy');
    expect(row?.cpuPercent).toBeGreaterThan(5);
    expect(row?.cpuPercent).toBeLessThan(80);
  });

  it('asks the engine for another runtime, or a container it cannot find on this host', async () => {
    const p = await appliedProject(projects, 'cgstats2', 'agents:\n  a: { network: none }');
    const id = docker('inspect', '-f', '{{.Id}}', `${p.prefix}a`);
    const engine = new DockerEngine();
    expect((await engine.containerStats(id, { oneShot: true, runtime: 'runsc' }))?.from).toBe('engine');
    expect((await engine.containerStats(id, { oneShot: true, runtime: '' }))?.from).toBe('cgroup');
    expect((await engine.containerCpu(id, { runtime: 'runsc' }))?.from).toBe('engine');
    expect((await engine.containerCpu(id, { runtime: '' }))?.from).toBe('cgroup');
    docker('stop', '-t', '0', id);
    // Stopped: its cgroup is gone, and the engine answers for it as before.
    expect((await engine.containerStats(id, { oneShot: true, runtime: '' }))?.from).toBe('engine');
    expect((await engine.containerCpu(id, { runtime: '' }))?.from).toBe('engine');
  });
});
