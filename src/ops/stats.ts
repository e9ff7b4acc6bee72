/**
 * stats: CPU %, memory, pids and /mnt disk use of running agents. A sampler keeps the previous sample
 * of each container, so CPU % is computed from its own one-shot samples; a container seen for the first
 * time is sampled twice, a second apart (all of them at once).
 */
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import type { ContainerSummary, CpuSample, DockerPort, StatsSample } from '../docker/port.js';
import { AgentctlError, toAgentctlError } from '../errors.js';
import { enginesOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { createdSpec, LABEL } from '../labels.js';
import { LOCAL_ENGINE } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import type { DiskUsage } from '../util/disk-usage.js';
import { portOf } from './context.js';
import { engineNamed, type LocateOptions } from './locate-agent.js';
import { naturalCompare } from '../util/natural-sort.js';

export interface StatsRow {
  agent: string;
  project: string;
  /** The engine it runs on (`local` without a file declaring others). */
  engine: string;
  container: string;
  /** Share of one CPU, as `docker stats` shows it (200 = two CPUs busy); undefined on a first one-shot. */
  cpuPercent?: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  workDir?: string;
  /** Disk use of the working directory (/mnt); `diskComplete` false: a lower bound. */
  diskBytes?: number;
  diskComplete?: boolean;
}

export interface StatsOptions extends LocateOptions {
  /** Only this project's agents (otherwise: every agent we manage). */
  project?: string;
  /** How long a working directory's disk use is reused before it is walked again (default 10 s). */
  diskMaxAgeMs?: number;
}

/** Stats calls in flight at once (those the engine answers: each waits for its collector's tick). */
const PARALLEL = 32;
/** The shortest time between a container's two samples that CPU % is computed over. */
const CPU_WINDOW_MS = 1000;

export class StatsSampler {
  private readonly previous = new Map<string, CpuSample>();
  private readonly disk = new Map<string, { at: number; usage: DiskUsage | undefined }>();
  /** The engines the last sample could not reach (their agents are missing from its rows). */
  unreachable: AgentctlError[] = [];

  constructor(private readonly opts: StatsOptions = {}) {}

  /** Every engine's running agents (one engine without a file declaring others; or the one chosen). */
  async sample(): Promise<StatsRow[]> {
    const { engine, desired } = this.opts;
    const chosen = engine !== undefined ? engineNamed(desired, engine) : undefined;
    const engines =
      chosen || hasOtherEngines(desired)
        ? await this.fileEngines(desired!, chosen?.name)
        : [{ name: LOCAL_ENGINE, port: portOf(this.opts), host: localHostFs }];
    const settled = await Promise.all(
      engines.map((e) =>
        'error' in e
          ? e.error
          : this.sampleEngine(e.name, e.port, e.host).catch((err: unknown) => toAgentctlError(err)),
      ),
    );
    this.unreachable = settled.filter((r): r is AgentctlError => r instanceof AgentctlError);
    // One engine alone failing is the command failing, as before.
    if (engines.length === 1 && this.unreachable[0]) throw this.unreachable[0];
    return settled
      .flatMap((r) => (r instanceof AgentctlError ? [] : r))
      .sort(
        (a, b) =>
          naturalCompare(a.project, b.project) ||
          naturalCompare(a.agent, b.agent) ||
          naturalCompare(a.engine, b.engine),
      );
  }

  /** The file's engines in its order (or the one chosen), each opened or with why it could not be. */
  private async fileEngines(
    desired: NonNullable<StatsOptions['desired']>,
    chosen: string | undefined,
  ): Promise<({ name: string; port: DockerPort; host: HostFs } | { name: string; error: AgentctlError })[]> {
    const { open, failed } = await openFileEngines(desired, portOf(this.opts));
    return enginesOf(desired)
      .filter((spec) => chosen === undefined || spec.name === chosen)
      .map(
        (spec) =>
          open.find((e) => e.name === spec.name) ?? {
            name: spec.name,
            error: failed.find((f) => f.spec.name === spec.name)!.error,
          },
      );
  }

  private async sampleEngine(engine: string, port: DockerPort, host: HostFs): Promise<StatsRow[]> {
    const key = (id: string) => `${engine}/${id}`;
    const containers = (await port.listManaged(this.opts.project)).filter(
      // Leftovers of an interrupted recreate are not the agent.
      (c) => c.state === 'running' && (c.labels[LABEL.name] ?? c.name) === c.name,
    );
    // The disk walks need no second sample: started now, they run while the CPU window below elapses
    // (a failure is the sample's, as before, when their results are awaited).
    const now = Date.now();
    const disks = mapLimit(containers, PARALLEL, (c) =>
      c.workDir ? this.diskUsage(engine, host, c.workDir, now) : Promise.resolve(undefined),
    );
    disks.catch(() => undefined);
    // A first look at a container: one quick CPU-only sample of each now, the row's a second later, and
    // CPU % between the two. The engine's own two-sample call waits a second or two per call, which at
    // 1000 agents and PARALLEL calls at a time is over a minute; one-shots of all of them take a fraction.
    const fresh = containers.filter((c) => !this.previous.has(key(c.id)));
    if (fresh.length > 0) {
      const primed = Date.now();
      await mapLimit(fresh, PARALLEL, async (c) => {
        const s = await port.containerCpu(c.id, { runtime: sampleOptions(c).runtime });
        if (s) this.previous.set(key(c.id), s);
      });
      await new Promise((r) => setTimeout(r, Math.max(0, CPU_WINDOW_MS - (Date.now() - primed))));
    }
    const samples = await mapLimit(containers, PARALLEL, (c) => port.containerStats(c.id, sampleOptions(c)));
    const diskOf = await disks;
    const rows = containers.map((c, i) => {
      const s = samples[i];
      const disk = diskOf[i];
      const prev = this.previous.get(key(c.id));
      if (!s) return undefined; // removed meanwhile
      this.previous.set(key(c.id), s);
      const row: StatsRow = {
        agent: c.labels[LABEL.agent] ?? '',
        project: c.labels[LABEL.project] ?? '',
        engine,
        container: c.name,
        cpuPercent: cpuPercent(s, prev),
        memoryBytes: s.memoryBytes,
        memoryLimitBytes: s.memoryLimitBytes,
        pids: s.pids,
        workDir: c.workDir,
        ...(disk ? { diskBytes: disk.bytes, diskComplete: disk.complete } : {}),
      };
      return row;
    });
    const live = new Set(containers.map((c) => key(c.id)));
    for (const k of this.previous.keys())
      if (k.startsWith(`${engine}/`) && !live.has(k)) this.previous.delete(k);
    return rows.filter((r): r is StatsRow => r !== undefined);
  }

  /** On the engine's host (through its helper for another machine), reused for diskMaxAgeMs. */
  private async diskUsage(
    engine: string,
    host: HostFs,
    dir: string,
    now: number,
  ): Promise<DiskUsage | undefined> {
    const k = `${engine}/${dir}`;
    const cached = this.disk.get(k);
    if (cached && now - cached.at < (this.opts.diskMaxAgeMs ?? 10_000)) return cached.usage;
    const usage = await host.diskUsage(dir);
    this.disk.set(k, { at: now, usage });
    return usage;
  }
}

/**
 * One-shot samples; with the runtime the agent was created with (its spec label: '' for the engine's
 * default), which lets the engine read a runc container's cgroup on this host instead of asking its
 * slow stats endpoint. An agent without that label (an older agentctl) is asked of the engine.
 */
function sampleOptions(c: ContainerSummary): { oneShot: true; runtime?: string } {
  const spec = createdSpec(c.labels);
  if (!spec) return { oneShot: true };
  return { oneShot: true, runtime: typeof spec.runtime === 'string' ? spec.runtime : '' };
}

/** One sample of every running agent. */
export function getStats(opts: StatsOptions = {}): Promise<StatsRow[]> {
  return new StatsSampler(opts).sample();
}

/**
 * As `docker stats` computes it: the container's share of the host's CPU time between two samples,
 * times the number of CPUs. Against `prev` when given (our previous sample), else the engine's own.
 */
export function cpuPercent(cur: StatsSample, prev?: CpuSample): number | undefined {
  const preCpu = prev ? prev.cpuTotalNs : cur.preCpuTotalNs;
  const preSystem = prev ? prev.systemCpuNs : cur.preSystemCpuNs;
  if (preCpu === undefined || preSystem === undefined) return undefined;
  const cpuDelta = cur.cpuTotalNs - preCpu;
  const systemDelta = cur.systemCpuNs - preSystem;
  if (systemDelta <= 0 || cpuDelta < 0) return 0;
  return (cpuDelta / systemDelta) * cur.onlineCpus * 100;
}
