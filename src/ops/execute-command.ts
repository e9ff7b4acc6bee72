/**
 * `executeCommand`: a shell command line in an agent, its output captured (bounded) and returned. The
 * command runs under bash, or sh in images without bash (found out once per container, then cached).
 */
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { runInAgent } from './exec.js';
import { OutputCap } from './output-cap.js';
import type { ResolvedAgent } from './resolve-agent.js';

export interface ExecuteCommandOptions {
  /** Given to the command on stdin, followed by end of file. Default: no stdin. */
  stdin?: string | Buffer;
  /** Added to the agent's environment for this command. */
  env?: Record<string, string>;
  /** Working directory (default: the agent's, /mnt). */
  workdir?: string;
  /** User name or uid[:gid] (default: the agent's). */
  user?: string;
  /** Kill the command, with everything it started, inside the container after this long. */
  timeoutMs?: number;
  /** Bytes kept of each of stdout and stderr; the rest is read and dropped (default 8 MiB). */
  maxOutputBytes?: number;
  /** Aborting kills the command inside the container, like a timeout (exit code 130). */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** The command's exit code; 124 when it timed out, 130 when `signal` aborted it. */
  exitCode: number;
  /** Output decoded as UTF-8; bytes that are not valid UTF-8 become U+FFFD. */
  stdout: string;
  stderr: string;
  /** The same output, byte for byte (for binary output). */
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
  timedOut: boolean;
  /** Whether stdout or stderr produced more than `maxOutputBytes` (what is returned is the start). */
  truncated: boolean;
  durationMs: number;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export type Shell = 'bash' | 'sh';

/** Which shell each container has, by container id. */
export type ShellCache = Map<string, Shell>;

export async function executeInAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  command: string,
  opts: ExecuteCommandOptions,
  shells: ShellCache,
): Promise<ExecResult> {
  const started = performance.now();
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (!Number.isInteger(max) || max < 0)
    throw new AgentctlError('usage', `maxOutputBytes must be a whole number >= 0, got ${max}`);
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0))
    throw new AgentctlError('usage', `timeoutMs must be > 0, got ${opts.timeoutMs}`);
  const out = new OutputCap(max);
  const err = new OutputCap(max);
  const stdin = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : opts.stdin;
  const deadline = opts.timeoutMs !== undefined ? started + opts.timeoutMs : undefined;

  const attempt = (shell: Shell) =>
    runInAgent(
      port,
      agent,
      [shell, '-c', command],
      {
        env: opts.env,
        workdir: opts.workdir,
        user: opts.user,
        stdin,
        signal: opts.signal,
        timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - performance.now()),
      },
      (stream, chunk) => (stream === 'stdout' ? out : err).push(chunk),
    );

  const known = shells.get(agent.id);
  let outcome = await attempt(known ?? 'bash');
  if (known === undefined && outcome.started) shells.set(agent.id, 'bash');
  if (known === undefined && !outcome.started && !outcome.timedOut && !outcome.interrupted) {
    // No bash, probably. Only sh starting proves it: a bad user or working directory fails both ways.
    out.reset();
    err.reset();
    outcome = await attempt('sh');
    if (outcome.started) shells.set(agent.id, 'sh');
  }
  if (!outcome.started && !outcome.timedOut && !outcome.interrupted) {
    // The output is the runtime's own message (executable or user not found, bad working directory).
    const why = `${out.text()}${err.text()}`.trim();
    throw new AgentctlError('engine', `cannot run a command in agent ${agent.agentId}: ${why}`);
  }
  const stdoutBytes = out.bytes();
  const stderrBytes = err.bytes();
  return {
    exitCode: outcome.exitCode,
    stdout: out.text(),
    stderr: err.text(),
    stdoutBytes,
    stderrBytes,
    timedOut: outcome.timedOut,
    truncated: out.truncated || err.truncated,
    durationMs: performance.now() - started,
  };
}
