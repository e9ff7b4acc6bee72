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

export interface RawResult {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the test's own environment. */
  env?: Record<string, string | undefined>;
  /** ms; 0 for none. Default 120 s. */
  timeout?: number;
  /** The command's stdin; empty when not given (as spawnSync's `input: ''` in `agentctl`). */
  input?: string | Buffer;
}

/**
 * Runs `cmd` without blocking the test worker and resolves with its exit status and output as bytes. A
 * test that runs many commands in a row, or one long one (an npm install), with spawnSync would starve
 * vitest's worker channel on a loaded machine ("Timeout calling onTaskUpdate").
 */
export function runAsyncRaw(cmd: string, args: string[], opts: RunOptions = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeout ?? 120_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ status: code ?? -1, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
    );
    // A command that exits before reading its input closes the pipe: its status says what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** As runAsyncRaw, with the output decoded as UTF-8. */
export async function runAsync(cmd: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const r = await runAsyncRaw(cmd, args, opts);
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** As `agentctl`, without blocking the test worker (see runAsync). */
export function agentctlAsync(
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliResult> {
  return runAsync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    input: opts.input,
    env: { NO_COLOR: '1', ...opts.env },
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
