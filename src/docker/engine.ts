/**
 * The Docker port's only implementation, and the only module that talks to the engine. It translates
 * between the Engine API and domain types and maps engine errors to AgentctlError. Plain JSON calls go
 * through EngineHttp (see there for why), and so does the events stream (newline-delimited JSON over one
 * long request), exec, the agents' hot path (src/docker/exec.ts), and the plain streamed answers of
 * logs, stats and the archive endpoints (EngineHttp.open); build uses dockerode, loaded lazily from this
 * module only.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { AgentctlError, BaseImageUnavailableError, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import type { ContainerRunState, EngineInfo, HealthProbe, LiveLimits, RestartPolicy } from '../types.js';
import { buildContextTar } from './build-context.js';
import { type CgroupLayout, cgroupCpuSample, cgroupSample, layoutFrom } from './cgroup-stats.js';
import { BuildStepTracker } from './build-steps.js';
import { AGENT_MOUNT } from './container-config.js';
import { type EngineAddress, parseDockerHost } from './engine-address.js';
import { type Deadline, EngineHttp, EngineHttpError, EngineTimeoutError } from './engine-http.js';
import { engineTimeoutMs } from './engine-timeout.js';
import { runExec } from './exec.js';
import {
  isPodmanVersion,
  NO_LIVE_UPDATE,
  podmanCreateBody,
  type PodmanHost,
  RUNTIME_START_FAILURE,
} from './podman.js';
import { type ApiRuntime, DEFAULT_RUNTIMES, runtimeTraitsOf } from './runtime-traits.js';
import { containerEventsFrom } from './events.js';
import { jsonLines } from './json-lines.js';
import type {
  BuildRequest,
  ContainerDetails,
  ContainerPathStat,
  ContainerEvent,
  ContainerSummary,
  CreateContainerBody,
  DockerPort,
  ExecIO,
  ExecOutcome,
  ExecRequest,
  ImageDetails,
  LogStreamOptions,
  CreateNetworkRequest,
  NetworkInfo,
  CpuSample,
  StatsSample,
  HealthStatus,
} from './port.js';
import { parsePathStat } from './path-stat.js';
import { type ApiStats, toStatsSample } from './stats-sample.js';
import { firstFileInTar } from './tar.js';
import { readPidMax } from '../util/proc-number.js';
import { processAlive, processStart } from '../util/process-start.js';
import { escapeRegExp } from '../util/regexp.js';

/** Engine API shapes we read (only the fields used). */
interface ApiContainerRow {
  Id: string;
  Names?: string[];
  State: string;
  Image: string;
  ImageID: string;
  Labels?: Record<string, string> | null;
  Created: number;
  Mounts?: { Destination: string; Source?: string }[];
}

interface ApiContainer {
  Id: string;
  Name: string;
  State: {
    Status: string;
    StartedAt?: string;
    FinishedAt?: string;
    ExitCode?: number;
    OOMKilled?: boolean;
    Error?: string;
    Health?: {
      Status?: string;
      FailingStreak?: number;
      Log?: { ExitCode?: number; Output?: string; End?: string }[] | null;
    };
  };
  RestartCount?: number;
  Image?: string;
  Created?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; Tty?: boolean };
  HostConfig: {
    Memory?: number;
    NanoCpus?: number;
    PidsLimit?: number | null;
    RestartPolicy?: { Name?: string };
    Runtime?: string;
  };
  Mounts?: { Destination: string; Source: string }[];
  NetworkSettings?: {
    Networks?: Record<string, { IPAddress?: string; IPAMConfig?: { IPv4Address?: string } | null } | null>;
  };
}

interface ApiNetwork {
  Id: string;
  Name: string;
  Driver?: string;
  Options?: Record<string, string> | null;
  Containers?: Record<string, unknown> | null;
  Internal?: boolean;
  IPAM?: {
    Config?:
      | {
          Subnet?: string;
          IPRange?: string;
          Gateway?: string;
          AuxiliaryAddresses?: Record<string, string> | null;
        }[]
      | null;
  };
  Labels?: Record<string, string> | null;
}

const q = encodeURIComponent;

/** Marks the throwaway containers readImageFile creates. */
const SCRATCH_LABEL = 'agentctl.scratch';
/** `<pid>:<start time>` of the process that created one: once that process is gone, it is a leftover. */
const SCRATCH_OWNER_LABEL = 'agentctl.scratch.owner';
const SCRATCH_OWNER = `${process.pid}:${processStart(process.pid) ?? ''}`;

/** One line of the engine's build output stream. */
interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  aux?: { ID?: string };
}

export class DockerEngine implements DockerPort {
  private readonly http: EngineHttp;
  private readonly address: EngineAddress;
  private dockerode?: Promise<import('dockerode')>;
  private infoOnce?: Promise<EngineInfo>;
  private kindOnce?: Promise<EngineInfo['kind']>;
  private podmanHostOnce?: Promise<PodmanHost>;
  private cgroupLayoutOnce?: Promise<CgroupLayout | undefined>;
  private cgroupTries = 0;

  /**
   * `address` defaults to DOCKER_HOST's (or the default socket); an address we cannot drive throws.
   * `timeoutMs`: every call's deadline (0 = none); default from AGENTCTL_ENGINE_TIMEOUT, see there.
   * `name`: the engine's name in agents.yaml, for messages. The transport (unix, tcp, TLS, ssh) follows
   * from the address (engine-connection.ts).
   */
  constructor(address?: EngineAddress, timeoutMs = engineTimeoutMs(), name?: string) {
    this.address = address ?? engineAddressOrThrow();
    this.http = new EngineHttp(this.address, timeoutMs, name);
  }

  get socketPath(): string | undefined {
    return this.address.socketPath;
  }

  /** dockerode, loaded on first use only: streaming endpoints need it, the hot paths do not. */
  private streaming(): Promise<import('dockerode')> {
    this.dockerode ??= import('dockerode').then(
      (m) => new m.default(this.http.connection.dockerodeOptions() as import('dockerode').DockerOptions),
    );
    return this.dockerode;
  }

  async info(): Promise<EngineInfo> {
    const info = await this.call<{
      ID?: string;
      Name?: string;
      DockerRootDir?: string;
      NCPU: number;
      MemTotal: number;
      ServerVersion: string;
      KernelVersion?: string;
      Architecture?: string;
      Runtimes?: Record<string, ApiRuntime>;
      DefaultRuntime?: string;
      CgroupDriver?: string;
      Rootless?: boolean;
    }>('docker info', 'GET', '/info');
    const runtimes = Object.keys(info.Runtimes ?? {}).sort();
    const answer: EngineInfo = {
      kind: await this.kind(),
      ncpu: Number(info.NCPU),
      memTotalBytes: Number(info.MemTotal),
      serverVersion: String(info.ServerVersion),
      runtimes,
      runtimeTraits: Object.fromEntries(runtimes.map((r) => [r, runtimeTraitsOf(info.Runtimes?.[r] ?? {})])),
      kernelVersion: String(info.KernelVersion ?? ''),
      ...(info.ID ? { identity: [info.ID, info.Name ?? '', info.DockerRootDir ?? ''].join(' ') } : {}),
      ...(info.Name ? { hostName: info.Name } : {}),
      ...(info.Architecture ? { architecture: info.Architecture } : {}),
      ...(info.DefaultRuntime ? { defaultRuntime: info.DefaultRuntime } : {}),
      ...(info.CgroupDriver ? { cgroupDriver: info.CgroupDriver } : {}),
      ...(info.Rootless !== undefined ? { rootless: info.Rootless === true } : {}),
    };
    // The latest answer is what this connection's own reads use (cachedInfo): no second /info for them.
    this.infoOnce = Promise.resolve(answer);
    return answer;
  }

  /**
   * Engine info for this connection's own reads (a runtime's traits, the default runtime, the kernel in a
   * message): the last answer info() had, asked only when it has none.
   */
  private cachedInfo(): Promise<EngineInfo> {
    this.infoOnce ??= this.info().catch((err: unknown) => {
      this.infoOnce = undefined;
      throw err;
    });
    return this.infoOnce;
  }

  /** dockerd or Podman, asked once per connection (/version is the cheapest call that says). */
  private kind(): Promise<EngineInfo['kind']> {
    this.kindOnce ??= this.call<{ Components?: { Name?: string }[] }>(
      'docker version',
      'GET',
      '/version',
    ).then(
      (v) => (isPodmanVersion(v) ? 'podman' : 'docker'),
      (err: unknown) => {
        this.kindOnce = undefined;
        throw err;
      },
    );
    return this.kindOnce;
  }

  /** Why the engine cannot change a container of `runtime` in place, if it cannot. */
  private async noLiveUpdate(runtime: string): Promise<string | undefined> {
    if ((await this.kind()) === 'podman') return NO_LIVE_UPDATE;
    if (DEFAULT_RUNTIMES.has(runtime)) return undefined;
    const traits = (await this.cachedInfo()).runtimeTraits[runtime];
    return traits?.gvisor
      ? `its runtime ${runtime} (gVisor) cannot change limits of a running container`
      : undefined;
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify(filters))}`,
    );
    return rows.map(toSummary);
  }

  async listContainersByName(names: string[]): Promise<ContainerSummary[]> {
    if (names.length === 0) return [];
    // The engine's name filter is an unanchored regexp: anchor it, then compare exactly.
    const filters = { name: names.map((n) => `^/${escapeRegExp(n)}$`) };
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify(filters))}`,
    );
    const wanted = new Set(names);
    return rows.map(toSummary).filter((c) => wanted.has(c.name));
  }

  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    const c = await this.callOr404<ApiContainer>('inspect container', 'GET', `/containers/${q(id)}/json`);
    if (!c) return undefined;
    const hc = c.HostConfig;
    const limits: LiveLimits = {
      memoryBytes: Number(hc.Memory ?? 0),
      nanoCpus: Number(hc.NanoCpus ?? 0),
      pids: Number(hc.PidsLimit ?? 0),
      restart: (hc.RestartPolicy?.Name || 'no') as RestartPolicy,
    };
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      state: c.State.Status as ContainerRunState,
      limits,
      noLiveUpdate: await this.noLiveUpdate(hc.Runtime ?? ''),
      startedAt: c.State.StartedAt,
      exitCode: c.State.ExitCode,
      oomKilled: c.State.OOMKilled,
      error: c.State.Error || undefined,
      workDir: (c.Mounts ?? []).find((m) => m.Destination === AGENT_MOUNT)?.Source,
      image: c.Config?.Image,
      imageId: c.Image,
      labels: c.Config?.Labels ?? {},
      networks: Object.fromEntries(
        Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => [
          name,
          n?.IPAMConfig?.IPv4Address || n?.IPAddress || '',
        ]),
      ),
      tty: c.Config?.Tty ?? false,
      createdAt: c.Created,
      finishedAt: c.State.FinishedAt,
      restartCount: c.RestartCount ?? 0,
      ...(c.State.Health?.Status ? { health: c.State.Health.Status as HealthStatus } : {}),
      ...(c.State.Health?.FailingStreak !== undefined && { failingStreak: c.State.Health.FailingStreak }),
      ...lastProbeOf(c.State.Health?.Log),
    };
  }

  async inspectImage(ref: string): Promise<ImageDetails | undefined> {
    const img = await this.callOr404<{
      Id: string;
      Config?: { User?: string; Labels?: Record<string, string> | null };
    }>('inspect image', 'GET', `/images/${q(ref)}/json`);
    if (!img) return undefined;
    return { id: img.Id, user: img.Config?.User ?? '', labels: img.Config?.Labels ?? {} };
  }

  async readImageFile(ref: string, path: string): Promise<Buffer | undefined> {
    await this.removeLeftoverScratch();
    // A throwaway container (created, never started) exposes the image's filesystem to the archive call.
    const { Id } = await this.call<{ Id: string }>(`read ${path} from ${ref}`, 'POST', '/containers/create', {
      Image: ref,
      Cmd: ['/agentctl-never-started'],
      Entrypoint: [''],
      Labels: { [SCRATCH_LABEL]: 'true', [SCRATCH_OWNER_LABEL]: SCRATCH_OWNER },
    });
    try {
      const tar = await this.rawOr404(`/containers/${Id}/archive?path=${q(path)}`);
      return tar ? firstFileInTar(tar) : undefined;
    } finally {
      await this.removeContainer(Id).catch(() => undefined);
    }
  }

  /**
   * A process killed between creating and removing a throwaway container leaves it behind (created,
   * never started, holding nothing). Removed here: those whose creator (its owner label: pid and start
   * time) is gone, at once; those of an older agentctl without that label once older than a minute,
   * which no run still in flight can be using. Only containers of this host's processes are judged by
   * pid: the engine runs here (see engine-address.ts).
   */
  async removeLeftoverScratch(): Promise<number> {
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify({ label: [`${SCRATCH_LABEL}=true`], status: ['created'] }))}`,
    );
    const cutoff = Date.now() / 1000 - 60;
    const leftover = rows.filter((r) => {
      const owner = r.Labels?.[SCRATCH_OWNER_LABEL];
      if (owner === undefined) return r.Created < cutoff;
      const [pid, start] = owner.split(':');
      return !processAlive(Number(pid), start || undefined);
    });
    await Promise.all(leftover.map((r) => this.removeContainer(r.Id)));
    return leftover.length;
  }

  async networkExists(name: string): Promise<boolean> {
    return (await this.callOr404('inspect network', 'GET', `/networks/${q(name)}`)) !== undefined;
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    const n = await this.callOr404<ApiNetwork>('inspect network', 'GET', `/networks/${q(name)}`);
    if (!n) return undefined;
    const subnet = (n.IPAM?.Config ?? [])
      .map((c) => c.Subnet ?? '')
      .find((c) => /^\d+\.\d+\.\d+\.\d+\//.test(c));
    const ipv4Pools = (n.IPAM?.Config ?? []).flatMap((c) =>
      c.Subnet !== undefined && !c.Subnet.includes(':')
        ? [
            {
              subnet: c.Subnet,
              ...(c.IPRange ? { ipRange: c.IPRange } : {}),
              ...(c.Gateway ? { gateway: c.Gateway } : {}),
              ...(c.AuxiliaryAddresses ? { reserved: Object.values(c.AuxiliaryAddresses) } : {}),
            },
          ]
        : [],
    );
    const bridge =
      n.Driver === 'bridge'
        ? (n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`)
        : undefined;
    return {
      id: n.Id,
      name: n.Name,
      internal: n.Internal ?? false,
      subnet,
      labels: n.Labels ?? {},
      ...(n.Driver ? { driver: n.Driver } : {}),
      attached: Object.keys(n.Containers ?? {}),
      ...(ipv4Pools.length > 0 ? { ipv4Pools } : {}),
      ...(bridge ? { bridge } : {}),
    };
  }

  async createNetwork(req: CreateNetworkRequest): Promise<string> {
    const res = await this.call<{ Id: string }>(`create network ${req.name}`, 'POST', '/networks/create', {
      Name: req.name,
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: req.internal,
      Labels: req.labels,
      ...(req.options !== undefined && { Options: req.options }),
      ...(req.subnet !== undefined && { IPAM: { Driver: 'default', Config: [{ Subnet: req.subnet }] } }),
    });
    return res.Id;
  }

  async removeNetwork(name: string): Promise<void> {
    await this.tolerate([404], `remove network ${name}`, 'DELETE', `/networks/${q(name)}`);
  }

  async connectNetwork(
    network: string,
    containerId: string,
    opts: { ipv4?: string; aliases?: string[] } = {},
  ): Promise<void> {
    await this.call(
      `connect ${short(containerId)} to ${network}`,
      'POST',
      `/networks/${q(network)}/connect`,
      {
        Container: containerId,
        EndpointConfig: {
          ...(opts.ipv4 !== undefined && { IPAMConfig: { IPv4Address: opts.ipv4 } }),
          ...(opts.aliases !== undefined && { Aliases: opts.aliases }),
        },
      },
    );
  }

  /**
   * What podmanCreateBody needs of a Podman service: the kernel.pid_max of its host when it is rootful
   * and on this host (a unix socket), read once per connection. Remote or rootless: nothing.
   */
  private podmanHost(): Promise<PodmanHost> {
    this.podmanHostOnce ??= (async (): Promise<PodmanHost> => {
      if (!this.address.socketPath || this.address.ssh || (await this.cachedInfo()).rootless !== false)
        return {};
      const pidMax = await readPidMax();
      return pidMax === undefined ? {} : { pidMax };
    })().catch((err: unknown) => {
      this.podmanHostOnce = undefined;
      throw err;
    });
    return this.podmanHostOnce;
  }

  async createContainer(name: string, body: CreateContainerBody): Promise<string> {
    const podman = (await this.kind()) === 'podman';
    try {
      const res = await this.call<{ Id: string }>(
        `create ${name}`,
        'POST',
        `/containers/create?name=${q(name)}`,
        podman ? podmanCreateBody(body, await this.podmanHost()) : body,
      );
      return res.Id;
    } catch (err) {
      if (podman && body.HostConfig.Init && err instanceof AgentctlError && /catatonit/.test(err.message)) {
        throw new AgentctlError(
          'engine',
          `create ${name}: Podman runs init: true with catatonit, which this Podman cannot find (apt-get install catatonit, or set init_path in containers.conf); or set init: false for this agent`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.tolerate([304], `start ${short(id)}`, 'POST', `/containers/${q(id)}/start`);
    } catch (err) {
      // gVisor with its own network stack, on a kernel it does not know (google/gvisor#10704).
      if (
        err instanceof AgentctlError &&
        /cannot run with network enabled in root network namespace/.test(err.message)
      ) {
        const kernel = (await this.cachedInfo().catch(() => undefined))?.kernelVersion ?? 'this kernel';
        throw new AgentctlError(
          'engine',
          `start ${short(id)}: this gVisor runtime cannot set up a sandbox network on the engine's kernel (Linux ${kernel}; google/gvisor#10704, kernels from about 6.7): register runsc with runtimeArgs ["--network=none"] and give the agent network: none, or install a runsc with that issue fixed`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.call(`unpause ${short(id)}`, 'POST', `/containers/${q(id)}/unpause`);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    // The engine answers once the container is down: up to the grace period, then the kill.
    await this.tolerate(
      [304, 404],
      `stop ${short(id)}`,
      'POST',
      `/containers/${q(id)}/stop?t=${timeoutSeconds}`,
      {
        extraMs: timeoutSeconds * 1000,
      },
    );
  }

  async removeContainer(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const force = opts.force === false ? 0 : 1;
    // v=1: anonymous volumes (an image's VOLUME) die with the container; agents' data is a bind mount.
    await this.tolerate([404], `remove ${short(id)}`, 'DELETE', `/containers/${q(id)}?force=${force}&v=1`);
  }

  async renameContainer(id: string, newName: string): Promise<void> {
    await this.call(
      `rename ${short(id)} to ${newName}`,
      'POST',
      `/containers/${q(id)}/rename?name=${q(newName)}`,
    );
  }

  async updateContainer(id: string, limits: LiveLimits): Promise<void> {
    await this.call(`update ${short(id)}`, 'POST', `/containers/${q(id)}/update`, {
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pids,
      RestartPolicy: { Name: limits.restart, MaximumRetryCount: 0 },
    });
  }

  async listManaged(project?: string): Promise<ContainerSummary[]> {
    // A label filter without `=value` matches every value: all our projects at once.
    const filters = { label: [project === undefined ? LABEL.project : `${LABEL.project}=${project}`] };
    const rows = await this.call<ApiContainerRow[]>(
      'list containers',
      'GET',
      `/containers/json?all=1&filters=${q(JSON.stringify(filters))}`,
    );
    return rows.map(toSummary);
  }

  async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(
      `restart ${short(id)}`,
      'POST',
      `/containers/${q(id)}/restart?t=${timeoutSeconds}`,
      undefined,
      { extraMs: timeoutSeconds * 1000 },
    );
  }

  async waitContainer(id: string): Promise<number> {
    // Waits for the container to exit, however long it runs: no deadline.
    const res = await this.call<{ StatusCode: number }>(
      `wait for ${short(id)}`,
      'POST',
      `/containers/${q(id)}/wait`,
      undefined,
      { none: true },
    );
    return Number(res.StatusCode);
  }

  async containerLogs(id: string, opts: LogStreamOptions): Promise<NodeJS.ReadableStream> {
    const params = new URLSearchParams({
      stdout: '1',
      stderr: '1',
      follow: opts.follow ? '1' : '0',
      timestamps: opts.timestamps ? '1' : '0',
      tail: opts.tail === undefined ? 'all' : String(opts.tail),
    });
    if (opts.since !== undefined) params.set('since', String(opts.since));
    if (opts.until !== undefined) params.set('until', String(opts.until));
    return this.openStream(`logs of ${short(id)}`, 'GET', `/containers/${q(id)}/logs?${params}`, {
      signal: opts.signal,
      ownConnection: opts.follow,
    });
  }

  async containerStats(
    id: string,
    opts: { oneShot: boolean; runtime?: string },
  ): Promise<StatsSample | undefined> {
    // A one-shot of a runc container of an engine on this host: its cgroup files (see cgroup-stats.ts).
    if (opts.oneShot && opts.runtime !== undefined && this.address.socketPath) {
      const layout = await this.cgroupLayout(id, opts.runtime);
      const sample = layout && cgroupSample(layout, id);
      if (sample) return sample;
    }
    // Without one-shot the engine takes two samples about a second apart, so CPU % can be computed.
    const raw = await this.callOr404<ApiStats>(
      `stats of ${short(id)}`,
      'GET',
      `/containers/${q(id)}/stats?stream=false${opts.oneShot ? '&one-shot=true' : ''}`,
    );
    return raw ? toStatsSample(raw) : undefined;
  }

  async containerCpu(id: string, opts: { runtime?: string }): Promise<CpuSample | undefined> {
    if (opts.runtime !== undefined && this.address.socketPath) {
      const layout = await this.cgroupLayout(id, opts.runtime);
      const sample = layout && cgroupCpuSample(layout, id);
      if (sample) return sample;
    }
    return this.containerStats(id, { oneShot: true });
  }

  /**
   * Where this engine keeps its containers' cgroups, learnt from the first runc container asked about
   * (its process's /proc/<pid>/cgroup). gVisor and other runtimes are left to the engine: their cgroup
   * holds the sandbox, whose numbers are not the agent's (see RuntimeTraits.gvisor).
   */
  private async cgroupLayout(id: string, runtime: string): Promise<CgroupLayout | undefined> {
    const effective = runtime || (await this.cachedInfo().catch(() => undefined))?.defaultRuntime;
    if (effective === undefined || effective === '' || !DEFAULT_RUNTIMES.has(effective)) return undefined;
    if (this.cgroupLayoutOnce === undefined) {
      const learning = this.learnCgroupLayout(id);
      this.cgroupLayoutOnce = learning;
      // Not learnt from this one (it stopped meanwhile...): the next container may tell.
      if ((await learning) === undefined && (this.cgroupTries += 1) < 3) this.cgroupLayoutOnce = undefined;
    }
    return this.cgroupLayoutOnce;
  }

  private async learnCgroupLayout(id: string): Promise<CgroupLayout | undefined> {
    const c = await this.callOr404<{ Id: string; State?: { Pid?: number } }>(
      'inspect container',
      'GET',
      `/containers/${q(id)}/json`,
    ).catch(() => undefined);
    const pid = c?.State?.Pid;
    if (!c || !pid) return undefined;
    try {
      return layoutFrom(await readFile(`/proc/${pid}/cgroup`, 'utf8'), c.Id);
    } catch {
      return undefined;
    }
  }

  async statContainerPath(id: string, path: string): Promise<ContainerPathStat | undefined> {
    const res = await this.openStreamOr404(
      `stat ${path}`,
      'HEAD',
      `/containers/${q(id)}/archive?path=${q(path)}`,
    );
    if (!res) return undefined;
    res.resume();
    return parsePathStat(res.headers['x-docker-container-path-stat']);
  }

  async getArchive(
    id: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<{ stat: ContainerPathStat; tar: NodeJS.ReadableStream } | undefined> {
    const res = await this.openStreamOr404(
      `copy ${path}`,
      'GET',
      `/containers/${q(id)}/archive?path=${q(path)}`,
      signal,
    );
    if (!res) return undefined;
    const stat = parsePathStat(res.headers['x-docker-container-path-stat']);
    if (!stat) {
      res.destroy();
      throw new AgentctlError('engine', `copy ${path}: the engine did not describe the path`);
    }
    return { stat, tar: res };
  }

  async putArchive(id: string, dir: string, tar: NodeJS.ReadableStream): Promise<void> {
    // noOverwriteDirNonDir: never let a file replace a directory or the reverse.
    const path = `/containers/${q(id)}/archive?path=${q(dir)}&noOverwriteDirNonDir=1`;
    try {
      const res = await this.http.open('PUT', path, {
        body: tar,
        headers: { 'content-type': 'application/x-tar' },
      });
      res.resume();
      await new Promise<void>((resolve, reject) => res.on('end', resolve).on('error', reject));
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) {
        throw new AgentctlError('not-found', `copy into ${dir}: no such directory in the container`);
      }
      // 20.10 answers 500 here, so go by the message.
      if (err instanceof EngineHttpError && /read-only/.test(err.message)) {
        throw new AgentctlError(
          'usage',
          `cannot copy into ${dir}: the agent's root filesystem is read-only, and the engine's archive API cannot reach tmpfs mounts; copy into ${AGENT_MOUNT} (the agent's working directory)`,
        );
      }
      throw describe(`copy into ${dir}`, err);
    }
  }

  async buildImage(req: BuildRequest, onOutput: (line: string) => void): Promise<string> {
    const docker = await this.streaming();
    let context: NodeJS.ReadableStream;
    try {
      context = await buildContextTar(req.context, req.dockerfile);
    } catch (err) {
      throw new AgentctlError(
        'preflight',
        `build context ${req.context} cannot be read: ${(err as Error).message}`,
      );
    }
    // The context goes as the docker CLI sends it (see build-context.ts), not as dockerode would pack it.
    const stream = await docker
      .buildImage(context, {
        t: req.image,
        dockerfile: req.dockerfile,
        buildargs: req.args,
        nocache: req.noCache ?? false,
        pull: req.pull ?? false,
        rm: true,
        forcerm: true,
      })
      .catch((err: unknown) => {
        throw describe(`build ${req.image}`, err);
      });
    let failure: string | undefined;
    let imageId: string | undefined;
    const steps = new BuildStepTracker(req.args);
    for await (const e of jsonLines<BuildEvent>(stream as AsyncIterable<Buffer>)) {
      if (e.error) failure = e.error.trim();
      if (e.aux?.ID) imageId = e.aux.ID;
      const text = (e.stream ?? e.status ?? '').replace(/\n$/, '');
      if (!text.trim()) continue;
      for (const line of text.split('\n')) {
        if (e.stream) steps.line(line);
        onOutput(line);
      }
    }
    const base = steps.failedBase();
    if (failure && base) throw new BaseImageUnavailableError(req.image, base, failure);
    if (failure) throw new AgentctlError('engine', `build ${req.image} failed: ${failure}`);
    return imageId ?? (await this.inspectImage(req.image))?.id ?? '';
  }

  async containerEvents(
    labels: Record<string, string>,
    signal: AbortSignal,
  ): Promise<AsyncIterable<ContainerEvent>> {
    // Plain newline-delimited JSON over one long-lived request: no need to load dockerode for it.
    const filters = { type: ['container'], label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    try {
      // Its own connection: a pooled one would be held for the stream's whole life.
      const body = await this.http.open('GET', `/events?filters=${q(JSON.stringify(filters))}`, {
        signal,
        ownConnection: true,
      });
      return containerEventsFrom(body);
    } catch (err) {
      throw describe('subscribe to engine events', err);
    }
  }

  private async openStream(
    what: string,
    method: string,
    path: string,
    opts: { signal?: AbortSignal; ownConnection?: boolean } = {},
  ): Promise<NodeJS.ReadableStream> {
    try {
      return await this.http.open(method, path, opts);
    } catch (err) {
      throw describe(what, err);
    }
  }

  private async openStreamOr404(
    what: string,
    method: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage | undefined> {
    try {
      return await this.http.open(method, path, { signal });
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) return undefined;
      throw describe(what, err);
    }
  }

  async exec(containerId: string, req: ExecRequest, io: ExecIO): Promise<ExecOutcome> {
    try {
      return await runExec(this.http, containerId, req, io, {
        startFailure: (await this.kind()) === 'podman' ? RUNTIME_START_FAILURE : undefined,
      });
    } catch (err) {
      throw describe(`exec in ${short(containerId)}`, err);
    }
  }

  private async call<T>(
    what: string,
    method: string,
    path: string,
    body?: unknown,
    deadline?: Deadline,
  ): Promise<T> {
    try {
      return await this.http.json<T>(method, path, body, deadline);
    } catch (err) {
      throw describe(what, err);
    }
  }

  private async callOr404<T>(what: string, method: string, path: string): Promise<T | undefined> {
    try {
      return await this.http.json<T>(method, path);
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) return undefined;
      throw describe(what, err);
    }
  }

  private async rawOr404(path: string): Promise<Buffer | undefined> {
    try {
      return await this.http.raw('GET', path);
    } catch (err) {
      if (err instanceof EngineHttpError && err.statusCode === 404) return undefined;
      throw describe('read archive', err);
    }
  }

  /** Calls whose "already done" answers (304 not modified, 404 gone) mean success for us. */
  private async tolerate(
    codes: number[],
    what: string,
    method: string,
    path: string,
    deadline?: Deadline,
  ): Promise<void> {
    try {
      await this.http.raw(method, path, undefined, deadline);
    } catch (err) {
      if (err instanceof EngineHttpError && codes.includes(err.statusCode)) return;
      throw describe(what, err);
    }
  }
}

function engineAddressOrThrow(): EngineAddress {
  const r = parseDockerHost();
  if (r.ok) return r.address;
  throw new AgentctlError(r.kind === 'usage' ? 'usage' : 'engine-unreachable', r.message);
}

function describe(what: string, err: unknown): AgentctlError {
  if (err instanceof EngineTimeoutError) {
    return new AgentctlError(
      'engine-timeout',
      `the Docker engine at ${err.address} did not answer (${what}) within ${err.timeoutMs / 1000} s; is dockerd hung or overloaded?`,
      { cause: err, optIn: 'engineTimeout' },
    );
  }
  const e = toAgentctlError(err);
  return e.kind === 'engine' ? new AgentctlError('engine', `${what}: ${e.message}`, { cause: err }) : e;
}

function toSummary(row: ApiContainerRow): ContainerSummary {
  return {
    id: row.Id,
    name: (row.Names?.[0] ?? '').replace(/^\//, ''),
    state: row.State as ContainerRunState,
    image: row.Image,
    imageId: row.ImageID,
    labels: row.Labels ?? {},
    createdAt: new Date(row.Created * 1000).toISOString(),
    workDir: (row.Mounts ?? []).find((m) => m.Destination === AGENT_MOUNT)?.Source,
    mountSources: (row.Mounts ?? []).flatMap((m) => (m.Source ? [m.Source] : [])),
  };
}

function short(id: string): string {
  return id.slice(0, 12);
}

/** The engine keeps the last five probes, oldest first. */
function lastProbeOf(log: { ExitCode?: number; Output?: string; End?: string }[] | null | undefined): {
  lastProbe?: HealthProbe;
} {
  const last = log?.at(-1);
  if (!last) return {};
  return {
    lastProbe: {
      exitCode: last.ExitCode ?? -1,
      output: (last.Output ?? '').trim(),
      ...(last.End ? { end: last.End } : {}),
    },
  };
}
