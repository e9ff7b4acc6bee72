/**
 * The one narrow port to the Docker engine. Only src/docker/engine.ts implements it;
 * everything else depends on this interface and domain types, which keeps the planner pure and lets
 * tests substitute a fake where a real engine cannot produce a fault.
 */
import type { ContainerRunState, EngineInfo, HealthProbe, LiveLimits } from '../types.js';

/** Engine API container-create body (the subset we use). Built by container-config.ts. */
export interface CreateContainerBody {
  Image: string;
  Cmd?: string[];
  Env: string[];
  User?: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  HostConfig: {
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    PidsLimit: number;
    Ulimits: { Name: string; Soft: number; Hard: number }[];
    Tmpfs: Record<string, string>;
    ReadonlyRootfs: boolean;
    NetworkMode: string;
    CapDrop: string[];
    CapAdd: string[];
    SecurityOpt: string[];
    Init: boolean;
    LogConfig: { Type: string; Config: Record<string, string> };
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    Runtime?: string;
    Mounts: { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }[];
    /** Name servers for the embedded DNS to forward to (egress policy agents: an unroutable one). */
    Dns?: string[];
  };
  /**
   * The healthcheck, durations in nanoseconds; `{ Test: ['NONE'] }` switches off the image's own.
   * Absent: the image's own HEALTHCHECK, if any.
   */
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    Retries?: number;
    StartPeriod?: number;
  };
  /** A fixed address (and aliases) on the container's network (egress policy agents, the gateway). */
  NetworkingConfig?: {
    EndpointsConfig: Record<string, { IPAMConfig?: { IPv4Address: string }; Aliases?: string[] }>;
  };
}

/** A network as the engine reports it (the subset we use). */
export interface NetworkInfo {
  id: string;
  name: string;
  internal: boolean;
  /** The first IPv4 subnet, e.g. 10.213.4.0/24. */
  subnet?: string;
  labels: Record<string, string>;
  /** Driver options (`com.docker.network.bridge.inhibit_ipv4`...). */
  options?: Record<string, string>;
  /** Its driver (`bridge`, `overlay`...). */
  driver?: string;
  /**
   * The ids of the containers attached now (running ones: a stopped container holds no endpoint): on a
   * bridge network, one port each on its Linux bridge.
   */
  attached?: readonly string[];
  /** Its IPv4 address pools (IPAM config), from which each attached container takes an address. */
  ipv4Pools?: readonly IPv4Pool[];
  /** A bridge network's Linux bridge (`docker0`, `br-<id>`), in the engine's network namespace. */
  bridge?: string;
}

/** One IPv4 pool of a network's IPAM config. */
export interface IPv4Pool {
  subnet: string;
  /** The part of the subnet containers are given addresses from (IPAM's IPRange). */
  ipRange?: string;
  gateway?: string;
  /** Addresses the IPAM keeps out of the pool (AuxiliaryAddresses). */
  reserved?: readonly string[];
}

export interface CreateNetworkRequest {
  name: string;
  internal: boolean;
  subnet?: string;
  labels: Record<string, string>;
  /** Driver options (`com.docker.network.bridge.inhibit_ipv4`...). */
  options?: Record<string, string>;
}

/** A row of the container list (cheap: one call for the whole project). */
export interface ContainerSummary {
  id: string;
  name: string;
  state: ContainerRunState;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  createdAt: string;
  /** Host source of the /mnt bind mount, if any (the list call reports mounts too). */
  workDir?: string;
  /** Host sources of all its mounts (bind mounts and volumes), wherever they are mounted. */
  mountSources?: string[];
}

/** What inspect adds to a summary. */
export interface ContainerDetails {
  id: string;
  name: string;
  state: ContainerRunState;
  limits: LiveLimits;
  /** Why the engine cannot change `limits` in place (see ObservedContainer.noLiveUpdate). */
  noLiveUpdate?: string;
  startedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** The engine's error from the last failed start, if any (State.Error). */
  error?: string;
  /** Host source of the /mnt bind mount, if any. */
  workDir?: string;
  /** The image reference it was created from, and the image id that resolved to. */
  image?: string;
  imageId?: string;
  labels?: Record<string, string>;
  /** Network name -> its IPv4 address there ('' when it has none yet, e.g. never started). */
  networks?: Record<string, string>;
  /** Whether it has a TTY (then its log stream is raw, not multiplexed). */
  tty?: boolean;
  createdAt?: string;
  finishedAt?: string;
  /** How often the engine restarted it under its restart policy since it was last started by hand. */
  restartCount?: number;
  /** The healthcheck's verdict; absent when the container has no healthcheck. */
  health?: HealthStatus;
  /** Consecutive failed probes, and the most recent probe (absent before the first one). */
  failingStreak?: number;
  lastProbe?: HealthProbe;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface LogStreamOptions {
  follow: boolean;
  /** Only the last N lines; undefined = all. */
  tail?: number;
  /** Only entries since this time (unix seconds). */
  since?: number;
  /** Only entries before this time (unix seconds). */
  until?: number;
  timestamps: boolean;
  signal?: AbortSignal;
}

/** One stats sample of a running container, with the engine's previous one when it took two. */
/** Cumulative CPU time of a container and of the host, in nanoseconds: what CPU % is computed from. */
export interface CpuSample {
  cpuTotalNs: number;
  systemCpuNs: number;
  /** Asked of the engine, or read from the container's cgroup on this host (src/docker/cgroup-stats.ts). */
  from: 'engine' | 'cgroup';
}

export interface StatsSample extends CpuSample {
  /** When the engine took the sample (RFC 3339). */
  read: string;
  onlineCpus: number;
  preCpuTotalNs?: number;
  preSystemCpuNs?: number;
  /** Memory in use without the inactive file cache, as `docker stats` counts it. */
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
}

/** A path inside a container, as the archive endpoints describe it. */
export interface ContainerPathStat {
  name: string;
  size: number;
  isDir: boolean;
  isSymlink: boolean;
  linkTarget: string;
  /** Permission bits (0o777). */
  mode: number;
}

export interface ImageDetails {
  id: string;
  /** The image's configured user ('' = root). */
  user: string;
  labels: Record<string, string>;
}

export interface BuildRequest {
  /** Tag for the result. */
  image: string;
  /** Absolute path of the build context. */
  context: string;
  /** Relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  noCache?: boolean;
  /** Try to pull newer versions of the base images. */
  pull?: boolean;
}

/** One container event from the engine's event stream (`docker events`). */
export interface ContainerEvent {
  /** The engine's action: create, start, die, kill, oom, stop, destroy, update, rename, exec_start: ... */
  action: string;
  containerId: string;
  /** The container's labels, plus what the engine adds (name, image, exitCode...). */
  attributes: Record<string, string>;
  /** When the engine saw it, in ms since the epoch. */
  timeMs: number;
}

/** A command to run in a running container (`docker exec`). */
export interface ExecRequest {
  cmd: string[];
  /** `KEY=VALUE` entries added to the container's environment. */
  env?: string[];
  workdir?: string;
  /** undefined = the container's user. */
  user?: string;
  /** A terminal: output is one raw stream (reported as stdout) and input is typed. */
  tty?: boolean;
  /** What the command reads on stdin, then end of file. Omitted: no stdin is attached. */
  stdin?: Buffer | NodeJS.ReadableStream;
  /** Aborting stops reading and closes the connection; it does not signal the process. */
  signal?: AbortSignal;
}

export interface ExecIO {
  /** Output as it arrives, never buffered. A returned promise pauses reading until it settles. */
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void | Promise<void>;
  /** Once the process is starting: its exec id, and a way to resize its terminal. */
  onStart?(exec: { id: string; resize(rows: number, cols: number): Promise<void> }): void;
}

export type ExecOutcome =
  /**
   * The exec ran. `started` is false when the runtime could not start the process (executable or
   * user not found, bad working directory): the output is then the runtime's message. `exitCode` is
   * null only when reading was aborted while the process still ran.
   */
  | { status: 'exited'; exitCode: number | null; started: boolean }
  /** Nothing ran: the container is gone, or exists but is not running (`message` says how). */
  | { status: 'no-container' }
  | { status: 'not-running'; message: string };

export interface DockerPort {
  /**
   * The unix socket on this host the engine is reached at, when it is (not over tcp or ssh): its
   * processes are then this host's, and their limits can be read here.
   */
  readonly socketPath?: string;
  info(): Promise<EngineInfo>;
  /** All containers (running or not) carrying `label=value` for every entry of `labels`. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Containers whose name is exactly one of `names` (any owner). */
  listContainersByName(names: string[]): Promise<ContainerSummary[]>;
  /** undefined when the container no longer exists. */
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  /** undefined when the image is not present locally. */
  inspectImage(ref: string): Promise<ImageDetails | undefined>;
  /** A file's content from an image's filesystem, or undefined if it does not exist. */
  readImageFile(ref: string, path: string): Promise<Buffer | undefined>;
  /** Removes throwaway containers of readImageFile that a killed run left behind; resolves to how many. */
  removeLeftoverScratch(): Promise<number>;
  networkExists(name: string): Promise<boolean>;
  /** undefined when there is no network of that name. */
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  createNetwork(req: CreateNetworkRequest): Promise<string>;
  /** Removing a network that is gone is fine. */
  removeNetwork(name: string): Promise<void>;
  /** Attaches a (created, not yet started, or running) container to one more network. */
  connectNetwork(
    network: string,
    containerId: string,
    opts?: { ipv4?: string; aliases?: string[] },
  ): Promise<void>;
  createContainer(name: string, body: CreateContainerBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutSeconds`. Stopping a stopped container is fine. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /**
   * Force-removes (unless `force: false`: then a running container is refused), with its anonymous
   * volumes (an image's VOLUME; agents' data is a bind mount and stays). Removing a gone container is fine.
   */
  removeContainer(id: string, opts?: { force?: boolean }): Promise<void>;
  renameContainer(id: string, newName: string): Promise<void>;
  updateContainer(id: string, limits: LiveLimits): Promise<void>;
  /** Containers we manage (carrying our project label): of every project, or of `project` only. */
  listManaged(project?: string): Promise<ContainerSummary[]>;
  /** Stop (SIGTERM, SIGKILL after `timeoutSeconds`) and start again; starts a stopped container. */
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Resolves with the exit code once the container is not running (at once if it is not). */
  waitContainer(id: string): Promise<number>;
  /** The log stream: multiplexed (src/docker/multiplex.ts) unless the container has a TTY. */
  containerLogs(id: string, opts: LogStreamOptions): Promise<NodeJS.ReadableStream>;
  /**
   * One sample (`oneShot`: without the engine's second sample for CPU %); undefined if it is gone.
   * `runtime`: the container's runtime as created ('' for the engine's default), when known: a one-shot
   * of a runc container of an engine on this host is then read from its cgroup, not asked of the engine.
   */
  containerStats(id: string, opts: { oneShot: boolean; runtime?: string }): Promise<StatsSample | undefined>;
  /**
   * Only the CPU times of a one-shot sample, for the first of the two samples CPU % needs: from a
   * container's cgroup (see containerStats' `runtime`) that is two small reads instead of six; from the
   * engine, its one-shot sample. undefined if it is gone.
   */
  containerCpu(id: string, opts: { runtime?: string }): Promise<CpuSample | undefined>;
  /** undefined when the path does not exist in the container. */
  statContainerPath(id: string, path: string): Promise<ContainerPathStat | undefined>;
  /** A tar of `path` (entries named from its base name); undefined when the path does not exist. */
  getArchive(
    id: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<{ stat: ContainerPathStat; tar: NodeJS.ReadableStream } | undefined>;
  /** Extracts a tar into the existing directory `dir`, owned by the container's user. */
  putArchive(id: string, dir: string, tar: NodeJS.ReadableStream): Promise<void>;
  /** Builds and tags an image, passing each line of build output on; resolves to the image id. */
  buildImage(req: BuildRequest, onOutput: (line: string) => void): Promise<string>;
  /**
   * Subscribes to events of the containers carrying every label in `labels`. Resolves once the engine
   * has accepted the subscription; the iterable then yields events until the engine closes the stream
   * (it ends) or the connection fails (it throws). Aborting `signal` ends it.
   */
  containerEvents(
    labels: Record<string, string>,
    signal: AbortSignal,
  ): Promise<AsyncIterable<ContainerEvent>>;
  /** Runs a command in a running container, streaming its output; see ExecOutcome. */
  exec(containerId: string, req: ExecRequest, io: ExecIO): Promise<ExecOutcome>;
}
