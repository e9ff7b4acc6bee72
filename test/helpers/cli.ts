/** Runs the built CLI (dist/) as a user would, in a given directory. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

export const CLI = path.resolve('dist/agentctl.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function agentctl(
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {},
): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * As `agentctl`, without blocking the test worker: a test running many commands in a row would otherwise
 * starve vitest's worker channel for minutes on a loaded machine ("Timeout calling onTaskUpdate").
 */
export function agentctlAsync(
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    // Piped and closed, as spawnSync's `input` is: the command reads it to its end.
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

export interface RunningCli {
  child: ReturnType<typeof spawn>;
  /** Resolves with the exit code once the streams are closed. */
  exited: Promise<number>;
  /** All it wrote so far, decoded. */
  stdout(): string;
  stderr(): string;
  /** Whether `what` came true within `ms`, looked at every 100 ms. */
  waitFor(what: () => boolean, ms?: number): Promise<boolean>;
}

/** The built CLI left running (`logs -f`, a watcher), its output collected as it comes. */
export function spawnAgentctl(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined> },
): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const waitFor = async (what: () => boolean, ms = 60_000) => {
    for (let t = 0; t < ms && !what(); t += 100) await new Promise((r) => setTimeout(r, 100));
    return what();
  };
  return {
    child,
    exited,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    waitFor,
  };
}
