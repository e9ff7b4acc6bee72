/** The engine's stats JSON -> a StatsSample (the Engine API shape stays in src/docker). */
import type { StatsSample } from './port.js';

/** The fields of `GET /containers/{id}/stats` we read. */
export interface ApiStats {
  read?: string;
  cpu_stats?: ApiCpu;
  precpu_stats?: ApiCpu;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number };
}

interface ApiCpu {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export function toStatsSample(s: ApiStats): StatsSample {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  // A one-shot sample has an empty previous sample: there is nothing to compute CPU % against.
  const hasPre = (pre.system_cpu_usage ?? 0) > 0;
  return {
    read: s.read ?? '',
    cpuTotalNs: cpu.cpu_usage?.total_usage ?? 0,
    systemCpuNs: cpu.system_cpu_usage ?? 0,
    onlineCpus: cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1,
    ...(hasPre
      ? { preCpuTotalNs: pre.cpu_usage?.total_usage ?? 0, preSystemCpuNs: pre.system_cpu_usage ?? 0 }
      : {}),
    memoryBytes: memoryInUse(s.memory_stats ?? {}),
    memoryLimitBytes: s.memory_stats?.limit ?? 0,
    pids: s.pids_stats?.current ?? 0,
    from: 'engine',
  };
}

/** As `docker stats` counts it: usage without the inactive file cache (cgroup v1 or v2 name). */
function memoryInUse(m: NonNullable<ApiStats['memory_stats']>): number {
  const usage = m.usage ?? 0;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : usage;
}
