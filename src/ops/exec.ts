/**
 * Run a command in an agent's container: the one exec path behind `AgentManager.executeCommand`,
 * `agentctl exec` and `agentctl shell`. It adds what the port does not know about: a deadline and an
 * interrupt that kill the command's processes inside the container (see exec-kill.ts), and the
 * messages for an agent that is stopped or gone.
 */
import type { DockerPort, ExecIO, ExecOutcome } from '../docker/port.js';
import { AgentctlError, EXIT } from '../errors.js';
import { EXEC_MARKER_ENV, killMarked, newExecMarker } from './exec-kill.js';
import { notRunningError, type ResolvedAgent } from './resolve-agent.js';
import { settlesWithin } from '../util/settles-within.js';

export interface RunOptions {
  /** Added to the container's environment. */
  env?: Record<string, string>;
  workdir?: string;
  /** undefined = the container's user. */
  user?: string;
  tty?: boolean;
  /** What the command reads on stdin, then end of file. Omitted: no stdin. */
  stdin?: Buffer | NodeJS.ReadableStream;
  /** Kill the command inside the container after this long; exit code 124. */
  timeoutMs?: number;
  /** Aborting kills the command inside the container; exit code 130. */
  signal?: AbortSignal;
  onStart?: ExecIO['onStart'];
}

export interface RunOutcome {
  /** The command's exit code; 124 after a timeout, 130 after an interrupt. */
  exitCode: number;
  /** False when the runtime could not start the command (see ExecOutcome). */
  started: boolean;
  timedOut: boolean;
  interrupted: boolean;
  /** After a timeout or an interrupt: whether every process of the command is known to be gone. */
  killed?: boolean;
}

/** Kill attempts before giving up on a command's output stream, and how long to wait after each. */
const KILL_ROUNDS = 3;
const KILL_WAIT_MS = 1000;

export async function runInAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  cmd: string[],
  opts: RunOptions,
  onOutput: ExecIO['onOutput'],
): Promise<RunOutcome> {
  const marker = newExecMarker();
  const giveUp = new AbortController();
  let stopped: 'timeout' | 'interrupt' | undefined;
  let killed: boolean | undefined;
  let killing: Promise<void> | undefined;

  const execution: Promise<ExecOutcome> = port
    .exec(
      agent.id,
      {
        cmd,
        env: [...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`), `${EXEC_MARKER_ENV}=${marker}`],
        workdir: opts.workdir,
        user: opts.user,
        tty: opts.tty,
        stdin: opts.stdin,
        signal: giveUp.signal,
      },
      { onOutput, onStart: opts.onStart },
    )
    .catch((err: unknown) => {
      // Abandoning the stream after a kill that did not end it is not a failure of the command.
      if (stopped && giveUp.signal.aborted)
        return { status: 'exited' as const, exitCode: null, started: true };
      throw err;
    });

  const stop = (reason: 'timeout' | 'interrupt') => {
    if (stopped) return;
    stopped = reason;
    killing = (async () => {
      for (let round = 0; round < KILL_ROUNDS; round++) {
        killed = await killMarked(port, agent.id, marker, opts.user);
        if (await settlesWithin(execution, KILL_WAIT_MS)) return;
      }
      // Something still holds the output open (or the killer cannot run): stop waiting for it.
      killed = false;
      giveUp.abort();
    })();
  };
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
  const onAbort = () => stop('interrupt');
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  let outcome: ExecOutcome;
  try {
    outcome = await execution;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await killing;

  // The outcome is the errors' cause, so a caller holding a stale container id can tell and look again.
  if (outcome.status === 'no-container') {
    throw new AgentctlError(
      'not-found',
      `agent ${agent.agentId} no longer exists (container ${agent.name})`,
      {
        cause: outcome,
      },
    );
  }
  if (outcome.status === 'not-running') {
    const state = /paused/i.test(outcome.message)
      ? 'paused'
      : /restarting/i.test(outcome.message)
        ? 'restarting'
        : undefined;
    throw notRunningError({ agentId: agent.agentId, state }, outcome);
  }
  const base = {
    started: outcome.started,
    timedOut: stopped === 'timeout',
    interrupted: stopped === 'interrupt',
  };
  if (stopped) return { ...base, exitCode: stopped === 'timeout' ? EXIT.timeout : EXIT.interrupted, killed };
  // null only when the stream was abandoned, which only a stop does.
  return { ...base, exitCode: outcome.exitCode ?? 255 };
}

/** Whether `err` says nothing ran because the container is gone or stopped (retry with a fresh lookup). */
export function isStaleContainerError(err: unknown): boolean {
  const status = ((err as { cause?: { status?: string } })?.cause ?? {}).status;
  return err instanceof AgentctlError && (status === 'no-container' || status === 'not-running');
}
