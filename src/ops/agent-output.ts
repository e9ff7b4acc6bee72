/**
 * One agent's output as the engine gives it, container after container: the one path under both
 * `getLogs` (one agent, byte-exact) and `getManyLogs` (lines of several). Without `follow` it is the
 * current container's logs. With `follow`, when a container's stream ends the agent is looked for again:
 * apply recreates an agent by making the replacement first (under a temporary name), then stopping and
 * removing the old container, so a stream that ends may mean the agent lives on in a new container. It is
 * followed there, with a notice; a stream of an agent that lives on never ends silently.
 */
import { Demultiplexer, type StreamName } from '../docker/multiplex.js';
import type { ContainerSummary, DockerPort } from '../docker/port.js';
import { LABEL } from '../labels.js';
import type { ResolvedAgent } from './resolve-agent.js';

/** What happened to a followed agent meanwhile. */
export interface LogNotice {
  agent: string;
  project: string;
  /**
   * recreated: followed into its new container; removed: gone, its stream is over; not-started: the
   * new container did not start in time, no longer followed.
   */
  event: 'recreated' | 'removed' | 'not-started';
  /** The container id now followed (recreated) or given up on (not-started); null when removed. */
  containerId: string | null;
  /** The same as a sentence. */
  message: string;
}

export interface AgentOutputOptions {
  follow?: boolean;
  /** The last N lines of the first container (a replacement's output is all new to the reader). */
  tail?: number;
  /** Unix seconds, as the engine takes them. */
  since?: number;
  until?: number;
  timestamps: boolean;
  signal?: AbortSignal;
  onNotice?(notice: LogNotice): void;
}

/** An agent's container, as far as following it needs. */
export type AgentRef = Pick<ResolvedAgent, 'id' | 'project' | 'agentId'>;

/** How long a recreated agent's new container is waited for to start before it is given up. */
const START_WAIT_MS = 30_000;
const POLL_MS = 250;
/** How long a container whose stream ended may still look running or be being removed. */
const SETTLE_MS = 3_000;

/**
 * What `read` makes of each container's log stream (raw chunks, lines), in order, across the
 * containers the agent is recreated into when followed. Ends when the agent's container stops or is
 * removed, or when `signal` aborts (not an error: that is how a caller ends `follow`).
 */
export async function* agentOutput<T>(
  port: DockerPort,
  agent: AgentRef,
  opts: AgentOutputOptions,
  read: (body: AsyncIterable<Buffer>, tty: boolean) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const notice = (event: LogNotice['event'], containerId: string | null, message: string) =>
    opts.onNotice?.({ agent: agent.agentId, project: agent.project, event, containerId, message });
  let current: AgentRef = agent;
  let tail = opts.tail;
  for (;;) {
    const details = await port.inspectContainer(current.id);
    if (!details) {
      notice('removed', null, `agent ${agent.agentId} was removed`);
      return;
    }
    try {
      const body = await port.containerLogs(current.id, {
        follow: opts.follow ?? false,
        tail,
        since: opts.since,
        until: opts.until,
        timestamps: opts.timestamps,
        signal: opts.signal,
      });
      yield* read(body as AsyncIterable<Buffer>, details.tty ?? false);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    if (!opts.follow || opts.signal?.aborted) return;
    const next = await replacementOf(port, current);
    if (!next) {
      if (!(await settledContainer(port, current.id))) {
        notice('removed', null, `agent ${agent.agentId} was removed`);
      }
      return; // it stopped: its stream is over, as with docker
    }
    notice(
      'recreated',
      next.id,
      `agent ${agent.agentId} was recreated: following its new container ${next.id.slice(0, 12)}`,
    );
    current = { id: next.id, project: agent.project, agentId: agent.agentId };
    tail = undefined;
    if (!(await startedWithin(port, next.id, START_WAIT_MS, opts.signal))) {
      if (opts.signal?.aborted) return;
      notice(
        'not-started',
        next.id,
        `agent ${agent.agentId}: its new container did not start; no longer followed`,
      );
      return;
    }
  }
}

/** One piece of output and the stream it was written on. */
export interface OutputChunk {
  stream: StreamName;
  data: Buffer;
}

/**
 * A log stream's pieces, stdout and stderr apart: a TTY's output is one raw stream (stdout), otherwise
 * frames say which stream each piece is. The pieces are subarrays of the socket's buffers: copy before
 * keeping them past the next one.
 */
export async function* outputChunks(body: AsyncIterable<Buffer>, tty: boolean): AsyncGenerator<OutputChunk> {
  let ready: OutputChunk[] = [];
  const demux = new Demultiplexer((stream, data) => ready.push({ stream, data }));
  for await (const chunk of body) {
    if (tty) {
      yield { stream: 'stdout', data: chunk };
      continue;
    }
    demux.push(chunk);
    const out = ready;
    ready = [];
    yield* out;
  }
}

/**
 * The container that replaced `agent`'s when apply recreated it (made before the old one is removed,
 * under a temporary name at first), if there is one.
 */
export async function replacementOf(
  port: DockerPort,
  agent: AgentRef,
): Promise<ContainerSummary | undefined> {
  const labels = { [LABEL.project]: agent.project, [LABEL.agent]: agent.agentId };
  return (await port.listContainers(labels)).find((c) => c.id !== agent.id);
}

/**
 * The container once its stream has ended, or undefined when it is gone. `docker rm -f` ends the stream
 * when it kills the container, while the engine still reports it (running, then removing): looked at
 * again for a moment, so a removal is told as one and not as a plain stop.
 */
async function settledContainer(port: DockerPort, id: string): Promise<unknown> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const d = await port.inspectContainer(id);
    if (!d || (d.state !== 'running' && d.state !== 'removing') || Date.now() >= deadline) return d;
    await new Promise((r) => setTimeout(r, POLL_MS / 5));
  }
}

/** Whether the container leaves `created` (apply starts a replacement once the old one is gone). */
async function startedWithin(
  port: DockerPort,
  id: string,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = await port.inspectContainer(id);
    if (!d) return false;
    if (d.state !== 'created') return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
