/**
 * An agent's logs: stdout and stderr kept apart (demultiplexed unless the container has a TTY), byte for
 * byte as the agent wrote them, written to sinks as they arrive or collected and returned. `follow`
 * streams until the container stops or `signal` aborts, and on into the new container when apply
 * recreates the agent (agent-output.ts). Works for stopped agents too: the engine keeps their logs.
 */
import { once } from 'node:events';
import type { StreamName } from '../docker/multiplex.js';
import { AgentctlError } from '../errors.js';
import { parseSince } from '../util/duration.js';
import { agentOutput, type LogNotice, outputChunks } from './agent-output.js';
import { type LocateOptions, locateAgent } from './locate-agent.js';

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
  /**
   * What happened to a followed agent meanwhile: recreated (its new container is followed on), removed
   * (the output ends there).
   */
  onNotice?(notice: LogNotice): void;
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
  if (!(await port.inspectContainer(agent.id))) {
    throw new AgentctlError('not-found', `agent ${agent.agentId} was removed`);
  }
  const collected: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const sinks: Record<StreamName, NodeJS.WritableStream | undefined> = {
    stdout: opts.stdout,
    stderr: opts.stderr,
  };
  const output = agentOutput(
    port,
    agent,
    {
      follow: opts.follow,
      tail: opts.tail,
      since: sinceSeconds(opts.since),
      until: sinceSeconds(opts.until, 'until'),
      timestamps: opts.timestamps ?? false,
      signal: opts.signal,
      onNotice: opts.onNotice,
    },
    outputChunks,
  );
  for await (const { stream, data } of output) {
    const sink = sinks[stream];
    // subarray()s of the socket's buffer: copy before keeping them.
    if (!sink) collected[stream].push(Buffer.from(data));
    // Backpressure: a slow reader (a pager, a pipe) slows the engine down instead of filling memory.
    else if (!sink.write(data)) await once(sink, 'drain');
  }
  return {
    agent: agent.agentId,
    project: agent.project,
    container: agent.name,
    stdout: Buffer.concat(collected.stdout).toString('utf8'),
    stderr: Buffer.concat(collected.stderr).toString('utf8'),
  };
}

/** A `since` or `until` value as the engine takes it: unix seconds. */
export function sinceSeconds(since: LogsOptions['since'], flag = 'since'): number | undefined {
  if (since === undefined) return undefined;
  if (since instanceof Date) return since.getTime() / 1000;
  if (typeof since === 'number') return since;
  return parseSince(since, Date.now(), flag);
}
