/** Runs the built CLI (dist/) as a user would, in a given directory. */
import { spawnSync } from 'node:child_process';
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
