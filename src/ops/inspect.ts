/** inspect: one agent as a record: its spec (from our label), state, live limits, data and image. */
import { AgentctlError } from '../errors.js';
import { createdSpec } from '../labels.js';
import type { HealthStatus } from '../docker/port.js';
import type { ContainerRunState, HealthProbe, LiveLimits } from '../types.js';
import { type DiskPressure, diskPressure } from '../reconcile/free-space.js';
import { type LocateOptions, locateAgent } from './locate-agent.js';

export const IMAGE_VERSION_LABEL = 'org.opencontainers.image.version';

export interface AgentRecord {
  agent: string;
  project: string;
  /** The engine it runs on (its name in the file; `local` without `engines:`). */
  engine: string;
  container: string;
  containerId: string;
  state: ContainerRunState;
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  image: string;
  imageId: string;
  /** The image's `org.opencontainers.image.version` label, when it has one. */
  imageVersion?: string;
  /** What the engine enforces now (it may differ from the spec after a `docker update`). */
  limits: LiveLimits;
  /** The spec the container was created from (the `agentctl.spec` label). */
  spec?: Record<string, unknown>;
  workDir?: string;
  /** Disk use of the working directory; `complete` is false when the walk was cut short. */
  disk?: { bytes: number; complete: boolean };
  /** Free space and inodes of the filesystem holding the working directory, flagged against apply's minimum. */
  filesystem?: DiskPressure;
  /** The healthcheck's verdict; absent when the container has no healthcheck. */
  health?: { status: HealthStatus; failingStreak: number; lastProbe?: HealthProbe };
}

export type InspectOptions = LocateOptions;

export async function inspectAgent(id: string, opts: InspectOptions = {}): Promise<AgentRecord> {
  const agent = await locateAgent(id, opts);
  const { port, host } = agent;
  const c = await port.inspectContainer(agent.id);
  if (!c) throw new AgentctlError('not-found', `agent ${agent.agentId} was removed`);
  const imageId = c.imageId ?? '';
  const [image, disk, filesystem] = await Promise.all([
    imageId ? port.inspectImage(imageId) : undefined,
    // On the engine's host: for an engine on another machine, through its helper.
    c.workDir ? host.diskUsage(c.workDir) : undefined,
    c.workDir ? diskPressure(c.workDir, undefined, host).catch(() => undefined) : undefined,
  ]);
  return {
    agent: agent.agentId,
    project: agent.project,
    engine: agent.engine,
    container: c.name,
    containerId: c.id,
    state: c.state,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    ...(c.state === 'running' ? {} : { finishedAt: c.finishedAt, exitCode: c.exitCode }),
    oomKilled: c.oomKilled,
    image: c.image ?? '',
    imageId,
    imageVersion: image?.labels[IMAGE_VERSION_LABEL],
    limits: c.limits,
    spec: createdSpec(c.labels),
    workDir: c.workDir,
    disk: disk && { bytes: disk.bytes, complete: disk.complete },
    filesystem,
    ...(c.health && {
      health: {
        status: c.health,
        failingStreak: c.failingStreak ?? 0,
        ...(c.lastProbe && { lastProbe: c.lastProbe }),
      },
    }),
  };
}
