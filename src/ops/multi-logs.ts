/**
 * The logs of several agents at once, as lines that say whose they are (`agentctl logs a b`, or every
 * agent of a project). Each line keeps its stream (stdout or stderr) and the engine's timestamp.
 *
 * Without `follow`, the agents' lines are merged in time order (the engine stamps every line; ties go in
 * the order the agents were given), so the output is the same on every run. With `follow`, lines are
 * handed on as they arrive, and an agent that apply recreates is followed into its new container: the
 * stream of one agent never ends silently while the agent lives on.
 *
 * For a file with `engines:`, each agent is read on its own engine (log-agents.ts), all in parallel and
 * merged the same way; an engine that cannot be asked is given back in the result, the others read.
 */
import type { StreamName } from '../docker/multiplex.js';
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { portOf } from './context.js';
import { agentOutput, type LogNotice, outputChunks } from './agent-output.js';
import type { UnreachableEngine } from '../types.js';
import type { LocateOptions } from './locate-agent.js';
import { logSources } from './log-agents.js';
import { sinceSeconds } from './logs.js';
import type { ResolvedAgent } from './resolve-agent.js';

export interface LogLine {
  agent: string;
  project: string;
  stream: StreamName;
  /** The engine's RFC 3339 timestamp (nanoseconds, trailing zeros dropped, UTC). */
  time: string;
  /** The line without its newline. */
  text: string;
}

/** An agent whose logs are read, and the container they are read from first. */
export interface LogAgent {
  agent: string;
  project: string;
  /** Container name and id. */
  container: string;
  containerId: string;
  /** The engine it is read on (`local` without a file's engines:). */
  engine: string;
}

export interface ManyLogsOptions extends LocateOptions {
  /** Resolve ids in this project; with no ids, every agent of it. */
  project?: string;
  follow?: boolean;
  /** The last N lines of each agent. */
  tail?: number;
  since?: Date | number | string;
  until?: Date | number | string;
  signal?: AbortSignal;
  /**
   * The agents found, in order, before their first line, and the engines of the file that could not be
   * asked (their agents are not read).
   */
  onAgents?(agents: LogAgent[], unreachable: UnreachableEngine[]): void;
  /** Each line, in order; awaited, so a slow reader slows the streams down. */
  onLine(line: LogLine): void | Promise<void>;
  /** What happened to a followed agent meanwhile (recreated, removed). */
  onNotice?(notice: LogNotice): void;
}

export interface ManyLogsResult {
  /** The agents whose logs were read, in the order their lines were ranked. */
  agents: string[];
  /**
   * Engines of the file that could not be asked, each with the agents on it (none of theirs were read);
   * the others' logs were. Empty without a file's engines:.
   */
  unreachable: UnreachableEngine[];
}

export async function getManyLogs(ids: readonly string[], opts: ManyLogsOptions): Promise<ManyLogsResult> {
  const port = portOf(opts);
  if (opts.tail !== undefined && (!Number.isInteger(opts.tail) || opts.tail < 0)) {
    throw new AgentctlError('usage', `tail must be a whole number >= 0, got ${opts.tail}`);
  }
  const { found, unreachable } = await logSources(port, ids, opts);
  opts.onAgents?.(
    found.map(({ agent: a, engine }) => ({
      agent: a.agentId,
      project: a.project,
      container: a.name,
      containerId: a.id,
      engine,
    })),
    unreachable,
  );
  const range = { since: sinceSeconds(opts.since), until: sinceSeconds(opts.until, 'until') };
  // Each from its own engine's connection, all at once: a slow engine does not hold the others up.
  const sources = found.map((a) => agentLines(a.port, a.agent, { ...opts, ...range }));
  if (opts.follow) await Promise.all(sources.map((s) => drain(s, opts.onLine)));
  else for await (const line of mergeByTime(sources)) await opts.onLine(line);
  return { agents: found.map((a) => a.agent.agentId), unreachable };
}

async function drain(source: AsyncIterable<LogLine>, onLine: ManyLogsOptions['onLine']): Promise<void> {
  for await (const line of source) await onLine(line);
}

/** One agent's lines; when followed, across the containers apply replaces it with. */
function agentLines(
  port: DockerPort,
  agent: ResolvedAgent,
  opts: Omit<ManyLogsOptions, 'since' | 'until'> & { since?: number; until?: number },
): AsyncGenerator<LogLine> {
  return agentOutput(port, agent, { ...opts, timestamps: true }, (body, tty) =>
    linesOf(body, tty, { agent: agent.agentId, project: agent.project }),
  );
}

/** The lines of one log stream (multiplexed unless the container has a TTY), each with its timestamp. */
export async function* linesOf(
  body: AsyncIterable<Buffer>,
  tty: boolean,
  who: Pick<LogLine, 'agent' | 'project'>,
): AsyncGenerator<LogLine> {
  const partial: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  for await (const { stream, data: chunk } of outputChunks(body, tty)) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      const piece = chunk.subarray(from, nl);
      const whole = partial[stream].length > 0 ? Buffer.concat([...partial[stream], piece]) : piece;
      partial[stream] = [];
      yield stamped(who, stream, whole.toString('utf8'));
      from = nl + 1;
    }
    // subarray()s of the socket's buffer: copy before keeping them.
    if (from < chunk.length) partial[stream].push(Buffer.from(chunk.subarray(from)));
  }
  // A last line without its newline is still a line.
  for (const stream of ['stdout', 'stderr'] as const) {
    if (partial[stream].length > 0)
      yield stamped(who, stream, Buffer.concat(partial[stream]).toString('utf8'));
  }
}

/** `2024-05-01T10:00:00.123456789Z text` as the engine writes it with timestamps on. */
function stamped(who: Pick<LogLine, 'agent' | 'project'>, stream: StreamName, raw: string): LogLine {
  const space = raw.indexOf(' ');
  const text = space === -1 ? '' : raw.slice(space + 1);
  return { ...who, stream, time: space === -1 ? raw : raw.slice(0, space), text: text.replace(/\r$/, '') };
}

/** Earlier first; the engine's timestamps are UTC with a fraction of up to nine digits. */
export function compareTimes(a: string, b: string): number {
  const [sa = '', fa = ''] = a.replace(/Z$/, '').split('.');
  const [sb = '', fb = ''] = b.replace(/Z$/, '').split('.');
  if (sa !== sb) return sa < sb ? -1 : 1;
  const [x, y] = [fa.padEnd(9, '0'), fb.padEnd(9, '0')];
  return x === y ? 0 : x < y ? -1 : 1;
}

/** A k-way merge of time-ordered streams; equal times keep the order of the sources. */
export async function* mergeByTime(sources: AsyncIterable<LogLine>[]): AsyncGenerator<LogLine> {
  const its = sources.map((s) => s[Symbol.asyncIterator]());
  const heads = await Promise.all(its.map((it) => it.next()));
  try {
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i] as IteratorResult<LogLine>;
        if (h.done) continue;
        const b = best === -1 ? undefined : (heads[best] as IteratorResult<LogLine>);
        if (!b || b.done || compareTimes(h.value.time, b.value.time) < 0) best = i;
      }
      if (best === -1) return;
      const h = heads[best] as IteratorYieldResult<LogLine>;
      yield h.value;
      heads[best] = await (its[best] as AsyncIterator<LogLine>).next();
    }
  } finally {
    // A reader that stops early: close every stream still open.
    await Promise.all(its.map((it, i) => (heads[i]?.done ? undefined : it.return?.())));
  }
}
