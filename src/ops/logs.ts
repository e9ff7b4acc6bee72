/**
 * An agent's logs: stdout and stderr kept apart (demultiplexed unless the container has a TTY),
 * written to sinks as they arrive (`follow` streams until the container stops or `signal` aborts),
 * or collected and returned. Works for stopped agents too: the engine keeps their logs.
 */
import { once } from 'node:events';
import { Demultiplexer, type StreamName } from '../docker/multiplex.js';
import type { ContainerSummary, DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { parseSince } from '../util/duration.js';
import { type LocateOptions, locateAgent } from './locate-agent.js';
import type { ResolvedAgent } from './resolve-agent.js';

export interface LogsOptions extends LocateOptions {
  /** Resolve the id in this project only. */
  project?: string;
  /** Keep streaming new output until the container stops or `signal` aborts. */
  follow?: boolean;
  /** Only the last N lines. */
  tail?: number;
  /** Only output since then: a Date, unix seconds, or text as `--since` takes it (`10m`, RFC 3339). */
  since?: Date | number | string;
  /** Only output before then, in the same forms as `since` (`10m` means ten minutes ago). */
  until?: Date | number | string;
  /** Prefix each line with the engine's RFC 3339 timestamp. */
  timestamps?: boolean;
  /** Where to write output as it arrives; without them, output is collected and returned. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

export interface LogsResult {
  agent: string;
  project: string;
  container: string;
  /** Collected output (empty when written to a sink instead). */
  stdout: string;
  stderr: string;
}

export async function getLogs(id: string, opts: LogsOptions = {}): Promise<LogsResult> {
  if (opts.tail !== undefined && (!Number.isInteger(opts.tail) || opts.tail < 0)) {
    throw new AgentctlError('usage', `tail must be a whole number >= 0, got ${opts.tail}`);
  }
  const agent = await locateAgent(id, opts);
  const { port } = agent;
  const details = await port.inspectContainer(agent.id);
  if (!details) throw new AgentctlError('not-found', `agent ${agent.agentId} was removed`);

  const collected: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const sinks: Record<StreamName, NodeJS.WritableStream | undefined> = {
    stdout: opts.stdout,
    stderr: opts.stderr,
  };
  const blocked = new Set<NodeJS.WritableStream>();
  const write = (name: StreamName, chunk: Buffer) => {
    const sink = sinks[name];
    if (!sink) {
      // subarray()s of the socket's buffer: copy before keeping them.
      collected[name].push(Buffer.from(chunk));
      return;
    }
    if (!sink.write(chunk)) blocked.add(sink);
  };
  const demux = new Demultiplexer(write);

  const since = sinceSeconds(opts.since);
  const until = sinceSeconds(opts.until, '--until');
  const result = {
    agent: agent.agentId,
    project: agent.project,
    container: agent.name,
  };
  try {
    const body = await port.containerLogs(agent.id, {
      follow: opts.follow ?? false,
      tail: opts.tail,
      since,
      until,
      timestamps: opts.timestamps ?? false,
      signal: opts.signal,
    });
    for await (const chunk of body as AsyncIterable<Buffer>) {
      // A TTY's output is one raw stream (stdout); otherwise frames say which stream each piece is.
      if (details.tty) write('stdout', chunk);
      else demux.push(chunk);
      // Backpressure: a slow reader (a pager, a pipe) slows the engine down instead of filling memory.
      for (const sink of blocked) await once(sink, 'drain');
      blocked.clear();
    }
  } catch (err) {
    // Aborting is how a caller ends `follow`: not an error.
    if (!opts.signal?.aborted) throw err;
  }
  if (opts.follow && !opts.signal?.aborted) await explainEndOfFollow(port, agent);
  return {
    ...result,
    stdout: Buffer.concat(collected.stdout).toString('utf8'),
    stderr: Buffer.concat(collected.stderr).toString('utf8'),
  };
}

/**
 * A followed stream ends when the container stops, or when apply recreates the agent: it makes the
 * replacement first (under a temporary name), then stops and removes this container, so the agent lives
 * on in a container this stream will never show. That must not look like a quiet agent: it is an error
 * naming the new container. A plain stop ends the output, as with docker.
 */
async function explainEndOfFollow(port: DockerPort, agent: ResolvedAgent): Promise<void> {
  const replacement = await replacementOf(port, agent);
  if (replacement) {
    throw new AgentctlError(
      'not-found',
      `agent ${agent.agentId} was recreated: its container ${agent.id.slice(0, 12)} is gone, the new one is ${replacement.id.slice(0, 12)}; follow it with agentctl logs -f ${agent.agentId}`,
    );
  }
  if (!(await port.inspectContainer(agent.id))) {
    throw new AgentctlError('not-found', `agent ${agent.agentId} was removed while its logs were followed`);
  }
}

/** A `since` or `until` value as the engine takes it: unix seconds. */
export function sinceSeconds(since: LogsOptions['since'], flag = '--since'): number | undefined {
  if (since === undefined) return undefined;
  if (since instanceof Date) return since.getTime() / 1000;
  if (typeof since === 'number') return since;
  return parseSince(since, Date.now(), flag);
}

/**
 * The container that replaced `agent`'s when apply recreated it (made before the old one is removed,
 * under a temporary name at first), if there is one.
 */
export async function replacementOf(
  port: DockerPort,
  agent: Pick<ResolvedAgent, 'id' | 'project' | 'agentId'>,
): Promise<ContainerSummary | undefined> {
  const labels = { [LABEL.project]: agent.project, [LABEL.agent]: agent.agentId };
  return (await port.listContainers(labels)).find((c) => c.id !== agent.id);
}
