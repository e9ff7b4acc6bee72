/**
 * Domain types shared by every layer. Nothing here knows about YAML, dockerode or the CLI.
 *
 * Flow: config -> DesiredState; docker -> ObservedState; reconcile/plan(desired, observed) -> Plan;
 * reconcile/execute(plan) -> ApplyReport.
 */

import type { OptIn } from './errors.js';

/** A position in the source file, 1-based, for `file:line:col` messages. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';
export type DesiredRunState = 'running' | 'stopped';

export interface Ulimit {
  soft: number;
  hard: number;
}

/**
 * The normalized, fully defaulted desired state of one agent (one container).
 * Every field is explicit so that hashing and diffing never depend on defaults applied later.
 */
export interface AgentSpec {
  /** Agent id (replicas already expanded: `worker-3`). */
  id: string;
  /** Container name: `<namePrefix><id>`. */
  name: string;
  image: string;
  /** Cmd; undefined = the image's default. */
  command?: string[];
  /** Full environment, including the AGENT_* variables we always set. */
  env: Record<string, string>;
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
  ulimits: Record<string, Ulimit>;
  /** Mount path -> Docker tmpfs option string (`rw,noexec,nosuid,size=100m`). */
  tmpfs: Record<string, string>;
  readOnly: boolean;
  network: string;
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  /** undefined = the image's default user. */
  user?: string;
  init: boolean;
  logs: { driver: string; options: Record<string, string> };
  restart: RestartPolicy;
  state: DesiredRunState;
  /** User labels (ours are added when the container is created). */
  labels: Record<string, string>;
  /** OCI runtime (e.g. `runsc`); undefined = the engine's default. */
  runtime?: string;
  /**
   * The engine the agent runs on (a key of the file's `engines:`); undefined = `local`. Not hashed: the
   * planner compares it with the engine the container is found on (a move is a data migration).
   */
  engine?: string;
  /**
   * How the engine probes the agent: a command with its timing; `none` (no probe, the image's own
   * HEALTHCHECK switched off too); or `image` (the image's own HEALTHCHECK, if it has one).
   */
  healthcheck: Healthcheck | 'none' | 'image';
  /** Absolute path of the agent's working directory ON ITS ENGINE'S HOST, mounted at /mnt. */
  workDir: string;
  /**
   * Environment variables whose values are secrets given by reference (absent when there are none, so
   * that specs without secrets hash as before). Only the reference and a keyed digest of the value are
   * part of the spec: the value itself is never in a spec, a label or a plan.
   */
  secretEnv?: Record<string, SecretEnv>;
  /**
   * The agent's egress rules, when it has a policy (`egress: { allow, deny }`); absent for `all` and
   * `none` (which is `network: none`). The rules are enforced by the project's egress gateway and are
   * not part of the hash: changing them never recreates the container.
   */
  egress?: EgressPolicy;
  /** Set by the planner on create/recreate of a policy agent: its fixed address on the egress network. */
  egressSlot?: number;
}

/** A healthcheck with every value explicit (durations in milliseconds). */
export interface Healthcheck {
  /** A list is run as is (exec form); a string is run by the image's /bin/sh -c (shell form). */
  command: string[] | string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failures that make the agent unhealthy. */
  retries: number;
  /** Failures in this time after a start do not count (a success ends it early). */
  startPeriodMs: number;
}

/** What a policy agent's container is given on the egress network (not hashed: see spec-hash.ts). */
export interface EgressSlot {
  /** Host number in the egress network's subnet: the agent's fixed address is subnet base + slot. */
  slot: number;
}

export interface EgressPolicy {
  /** Sorted, without duplicates, as written. */
  allow: string[];
  deny: string[];
}

/** One secret environment variable of a spec. */
export interface SecretEnv {
  /** The reference as written: `fromEnv:NAME` or `fromFile:./path`. */
  ref: string;
  /** `hmac-sha256:<hex>` of the value under the project's digest key; set once the value is resolved. */
  digest?: string;
}

/** Where one secret of one agent comes from, for resolving it and for messages. */
export interface SecretSource {
  agentId: string;
  /** The variable name. */
  key: string;
  /** As in SecretEnv.ref. */
  ref: string;
  fromEnv?: string;
  /** Absolute path. */
  fromFile?: string;
  /** Where the reference is written, and its path in the file (`agents.coder.env.API_KEY`). */
  pos: SourcePos;
  where: string;
}

export interface ConfigWarning {
  pos?: SourcePos;
  message: string;
}

/** How to build an image the file declares with `build:` (paths absolute). */
export interface ImageBuild {
  /** The tag the build produces: the agents' `image`. */
  image: string;
  context: string;
  /** Relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  /** Agents that use the image (for messages). */
  agents: string[];
}

/** The engine every file has: DOCKER_HOST, or the default socket, on this host. */
export const LOCAL_ENGINE = 'local';

/** TLS client files for an engine (absolute paths on this host). */
export interface EngineTls {
  ca: string;
  cert: string;
  key: string;
}

/** One engine of the file's `engines:` (and the implicit `local`). */
export interface EngineSpec {
  name: string;
  /** `unix:///path`, `tcp://HOST:PORT`, `ssh://user@host`; undefined only for `local` (DOCKER_HOST). */
  host?: string;
  tls?: EngineTls;
  /** ssh engines: the private key file (absolute, resolved against the file's directory). */
  identityFile?: string;
  /** Absolute path ON THAT ENGINE'S HOST under which its agents' working directories live. */
  runtimeDir: string;
  /** Where the engine is declared (absent for the implicit `local`). */
  pos?: SourcePos;
}

export interface DesiredState {
  /** Absolute path of the config file, or `<stdin>`. */
  file: string;
  /**
   * The file's real path (symlinks resolved), which the agentctl.file label records on what it creates;
   * absent for stdin (then nothing is recorded, and every agent another file created counts as foreign).
   */
  realFile?: string;
  project: string;
  /** Absolute host path (the `local` engine's runtime directory, and agentctl's own state). */
  runtimeDir: string;
  /**
   * Every engine the file names, sorted by name, `local` always among them; absent = only `local`
   * (see fleet/engines-of.ts).
   */
  engines?: EngineSpec[];
  namePrefix: string;
  /** Sorted by id. */
  agents: AgentSpec[];
  /** Where each agent was declared, for messages. */
  positions: Record<string, SourcePos>;
  /** The key each replica id was expanded from (`worker-2` -> `worker`); absent for plain agents. */
  replicaOf?: Record<string, string>;
  /** Images the file says how to build, sorted by image. */
  builds: ImageBuild[];
  warnings: ConfigWarning[];
  /** Every secret reference of every agent, sorted by agent then variable (absent when there are none). */
  secrets?: SecretSource[];
  /**
   * Agents whose `pids` no layer of the file sets, sorted (absent when there are none): they have the
   * built-in default for their runtime's name, which preflight checks against the runtime the engine
   * really runs them under (the file cannot see that runtime's registration, or the engine's default).
   */
  builtInPids?: string[];
}

export type ContainerRunState =
  'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** Values the engine can change in place (docker update) and that we therefore read back from inspect. */
export interface LiveLimits {
  memoryBytes: number;
  nanoCpus: number;
  pids: number;
  restart: RestartPolicy;
}

/** One container we own, as the engine reports it. */
export interface ObservedContainer {
  id: string;
  name: string;
  agentId: string;
  state: ContainerRunState;
  /** The image reference it was created from, and the image id it resolved to at creation. */
  image: string;
  imageId: string;
  specHash?: string;
  /** A replacement left behind by an interrupted recreate. */
  temporary: boolean;
  /** Read from inspect; undefined for containers the planner will not keep (not inspected). */
  limits?: LiveLimits;
  /**
   * Why the engine cannot change this container's limits in place (its runtime has no update...), so a
   * limit change recreates it; undefined when it can, or when it was not inspected.
   */
  noLiveUpdate?: string;
  labels: Record<string, string>;
  createdAt?: string;
  startedAt?: string;
  /** Why its last start failed, as the engine recorded it (from inspect). */
  startError?: string;
  /** From inspect: restarts by the engine's restart policy, the last exit code, the healthcheck's verdict. */
  restartCount?: number;
  exitCode?: number;
  health?: 'starting' | 'healthy' | 'unhealthy';
  /** The healthcheck's most recent probe, when there has been one (from inspect). */
  lastProbe?: HealthProbe;
  /** Its address on the project's egress network, when it is on it (from inspect). */
  egressAddress?: string;
}

/** One run of a healthcheck, as the engine recorded it. */
export interface HealthProbe {
  exitCode: number;
  /** What the probe printed (the engine keeps at most 4 KiB), trimmed. */
  output: string;
  /** When it ended (RFC 3339). */
  end?: string;
}

/** A container with one of our names that we do not own (never touched, reported as a conflict). */
export interface ForeignContainer {
  id: string;
  name: string;
  /** When it is an agent of another agentctl project (container names are per engine, not per project). */
  owner?: { project: string; agent: string };
}

export interface EngineInfo {
  /** dockerd, or Podman's Docker-compatible service (which differs: see src/docker/podman.ts). */
  kind: 'docker' | 'podman';
  /**
   * Who the engine is, the same at every address it listens on: /info's ID with its host name and data
   * root (dockerd before 23 derives the ID from /etc/docker/key.json, which two dockerds of one host
   * share; no two share a data root). Absent if it gives no ID.
   */
  identity?: string;
  /**
   * The name of the machine the engine runs on, as it says (/info's Name): engines that give the same
   * one share a disk for the in-use check (fleet/same-host.ts). Absent if it gives none.
   */
  hostName?: string;
  ncpu: number;
  memTotalBytes: number;
  serverVersion: string;
  /** OCI runtimes the engine knows (runc, runsc...). */
  runtimes: string[];
  /** What the engine's configuration says about each runtime in `runtimes`, where it matters to us. */
  runtimeTraits: Record<string, RuntimeTraits>;
  /** The engine host's kernel release (`6.1.0-18-amd64`). */
  kernelVersion: string;
  /** The engine host's CPU architecture as the engine says it (`x86_64`, `aarch64`). */
  architecture?: string;
  /** The runtime of containers that name none (runc unless the engine is configured otherwise). */
  defaultRuntime?: string;
  /**
   * How the engine manages cgroups (/info's CgroupDriver: `systemd` or `cgroupfs`). Podman schedules
   * healthchecks with systemd timers, which a Podman on cgroupfs cannot count on (src/docker/podman.ts).
   */
  cgroupDriver?: string;
  /** Whether the engine runs as an unprivileged user (Podman's rootless mode; /info's Rootless). */
  rootless?: boolean;
}

/** How a runtime the engine has registered behaves, as far as agentctl must adapt to it. */
export interface RuntimeTraits {
  /**
   * gVisor (runsc): it has no `update` (limits change only by recreating), and its pids cgroup counts
   * the sandbox's own threads, not only the agent's processes.
   */
  gvisor: boolean;
  /** Its registered arguments give every sandbox no network but loopback (`runsc --network=none`). */
  noNetwork: boolean;
}

export interface ObservedState {
  project: string;
  containers: ObservedContainer[];
  /** image reference -> image id, or null when the image is not present. */
  images: Record<string, string | null>;
  foreign: ForeignContainer[];
  /**
   * Each file other than this one that the containers' agentctl.file labels name -> whether it still
   * exists on this host (absent: no container names another file). The planner tells another file that
   * still exists (its agents are guarded) from one that was moved away (its agents are adopted).
   */
  otherFiles?: Record<string, boolean>;
  /** The project's egress gateway and networks (absent when the project has no egress policy at all). */
  egress?: ObservedEgress;
}

export interface ObservedEgress {
  internal?: { name: string; subnet?: string; internal: boolean };
  outbound?: { name: string };
  gateway?: { id: string; name: string; state: ContainerRunState; imageId: string; specHash?: string };
  /** The gateway image this agentctl makes (tagged by its content), and its id or null when missing. */
  gatewayImage: string;
  gatewayImageId: string | null;
  /** The policy file the gateway reads; undefined when it is missing or unreadable. */
  policy?: PolicyEntry[];
  policyHostAddresses?: string[];
  /** This host's own IPv4 addresses (a name resolving to one of them is refused). */
  hostAddresses: string[];
}

/** One agent's entry in the gateway's policy file. */
export interface PolicyEntry {
  agent: string;
  address: string;
  allow: string[];
  deny: string[];
}

/** What the gateway container is made from; its hash is a label on it. */
export interface GatewaySpec {
  name: string;
  image: string;
  internalNetwork: string;
  outboundNetwork: string;
  /** Absolute host directory holding policy.json, mounted read-only at /policy. */
  policyDir: string;
}

/** The policy file to write: agents by slot (the executor turns slots into addresses). */
export interface DesiredPolicy {
  entries: { agent: string; slot: number; allow: string[]; deny: string[] }[];
  hostAddresses: string[];
}

export type EgressAction =
  /** `subnets`: candidates in order, the first one free on the engine is taken (internal network only). */
  | { kind: 'create-network'; network: string; internal: boolean; subnets?: string[]; cause: string }
  | { kind: 'create-gateway'; gateway: GatewaySpec; cause: string }
  | { kind: 'recreate-gateway'; containerId: string; gateway: GatewaySpec; cause: string }
  | { kind: 'start-gateway'; containerId: string; name: string; cause: string }
  | { kind: 'write-policy'; policy: DesiredPolicy; changes: FieldChange[]; cause: string }
  | { kind: 'remove-gateway'; containerId: string; name: string; cause: string }
  | { kind: 'remove-network'; network: string; cause: string };

export interface EgressResult {
  action: EgressAction;
  ok: boolean;
  error?: string;
  durationMs: number;
}

export interface FieldChange {
  /** Dotted path, e.g. `env.MODE` or `memoryBytes`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

interface ActionBase {
  agentId: string;
  /** The engine the action runs on (set by the fleet planner; undefined in a one-engine plan = local). */
  engine?: string;
  /** Human explanation of why this action is needed. */
  cause: string;
  /**
   * Another file that names the same project created the container this action changes or removes, and
   * that file still exists: apply refuses such an action unless told (--allow-foreign-prune for removals,
   * --allow-foreign-change for the rest). Absent when this file, a file that no longer exists, stdin or an
   * older agentctl created it.
   */
  createdBy?: string;
}

export type Action =
  | (ActionBase & { kind: 'create'; spec: AgentSpec })
  | (ActionBase & { kind: 'start'; containerId: string; name: string })
  | (ActionBase & { kind: 'unpause'; containerId: string; name: string })
  | (ActionBase & { kind: 'stop'; containerId: string; name: string })
  | (ActionBase & {
      kind: 'update';
      containerId: string;
      name: string;
      spec: AgentSpec;
      changes: FieldChange[];
    })
  | (ActionBase & {
      kind: 'recreate';
      containerId: string;
      name: string;
      spec: AgentSpec;
      changes: FieldChange[];
      /** Set when the container is recreated because the engine left it broken (see BrokenKind). */
      broken?: BrokenKind;
    })
  | (ActionBase & { kind: 'remove'; containerId: string; name: string });

export type ActionKind = Action['kind'];

/**
 * A container an engine crash left unusable, which only a new container repairs:
 * - `never-started`: listed `created` although the file wants it running, and its last start failed.
 *   After dockerd dies mid-start, containerd may still hold the container's task, and then every start
 *   fails (`task ... already exists`, `id already in use`).
 * - `phantom-running`: listed `running` but never started (StartedAt is the zero time): nothing runs in
 *   it and every exec fails (`BaseFS ... is unexpectedly nil`).
 */
export type BrokenKind = 'never-started' | 'phantom-running';

export interface Conflict {
  agentId: string;
  /** The engine it was found on (fleet plans). */
  engine?: string;
  name: string;
  containerId: string;
  message: string;
  /** What the caller may set to go ahead (the CLI names its flag; the message never does). */
  optIn?: OptIn;
}

export interface Plan {
  project: string;
  /** Stable order: cleanup of leftovers first, then by agent id, each agent's steps in execution order. */
  actions: Action[];
  /** Agents already in the desired state. */
  unchanged: string[];
  conflicts: Conflict[];
  /**
   * Agents the plan leaves alone whose container is not well: restart-looping, exited although the file
   * says running, or unhealthy. Not actions (the engine's restart policy owns restarts), but never "fine".
   */
  failing?: FailingAgent[];
  /**
   * Agents whose container another file created, where that file no longer exists (moved or renamed):
   * this file adopts them, without a guard. Shown as a note; the label is renewed by their next recreate.
   */
  adopted?: AdoptedAgent[];
  /**
   * The egress gateway's steps (absent when there are none). Setup (networks, gateway, policy) runs
   * before the agents' actions, removals after them.
   */
  egress?: EgressAction[];
  /**
   * Agents moving to another engine (apply --migrate): each a visible sequence carried out after the
   * other actions (absent when there are none).
   */
  migrations?: Migration[];
  /** Engines that could not be observed: their agents are withheld, nothing is planned for them. */
  unreachable?: UnreachableEngine[];
  /**
   * The targets the plan was limited to (apply/diff --target), as given: agents outside them are not
   * shown, whatever they would need. Absent for a whole plan.
   */
  targets?: string[];
}

/**
 * An agent whose only container is on another engine than the file's: stop it on the source, create
 * it on the target (not started), copy /mnt over the archive API, verify the copy (entries and bytes),
 * start it, then remove the source container. The source's working directory is kept on its host.
 */
export interface Migration {
  agentId: string;
  spec: AgentSpec;
  from: { engine: string; containerId: string; name: string; workDir?: string };
  to: string;
  cause: string;
}

export interface UnreachableEngine {
  engine: string;
  message: string;
  /** The file's agents on it, withheld. */
  agents: string[];
}

export interface AdoptedAgent {
  agentId: string;
  /** The file recorded in its label, which no longer exists. */
  file: string;
}

export interface FailingAgent {
  agentId: string;
  /** `restart-looping (restarted 12 times, last exit code 1)`, `unhealthy`... */
  message: string;
  /** For an unhealthy agent: the healthcheck's most recent probe. */
  lastProbe?: HealthProbe;
}

export interface MigrationResult {
  migration: Migration;
  ok: boolean;
  /** The steps done, in order (`stopped on gpu-box`, `copied 12 files, 3.1 MiB`...). */
  steps: string[];
  error?: string;
  durationMs: number;
  containerId?: string;
}

export interface ActionResult {
  action: Action;
  ok: boolean;
  error?: string;
  durationMs: number;
  /** Container id after the action (new id for create/recreate). */
  containerId?: string;
  /** Never begun: the run was interrupted (a signal) before this action's turn. */
  notStarted?: boolean;
  /** The action itself succeeded, but the agent did not stay up through the settle time (see error). */
  notReady?: boolean;
}

export interface ApplyReport {
  project: string;
  dryRun: boolean;
  results: ActionResult[];
  unchanged: string[];
  durationMs: number;
  ok: boolean;
  /** The run stopped early (SIGINT/SIGTERM): actions in flight ended, the rest were not started. */
  interrupted?: boolean;
  /** Results of the plan's egress steps (absent when there were none). */
  egress?: EgressResult[];
  /** Results of the plan's migrations (absent when there were none). */
  migrations?: MigrationResult[];
  /** Engines that could not be reached: their agents were withheld (the run is not ok). */
  unreachable?: UnreachableEngine[];
}
