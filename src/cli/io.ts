/** Shared plumbing for the thin command layer: options, stdin, output. */
import { Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { AgentctlError, formatAt } from '../errors.js';
import type { DesiredState } from '../types.js';

export type OutputFormat = 'text' | 'json';

export const fileOption = () =>
  new Option('-f, --file <path>', 'agents file (`-` reads stdin)').default('agents.yaml');

export const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Load the file and print its warnings to stderr (they never change the exit code). */
export async function loadDesired(
  file: string,
  opts: { quietWarnings?: boolean } = {},
): Promise<DesiredState> {
  const desired = await loadConfig(file, { cwd: process.cwd(), readStdin });
  if (!opts.quietWarnings) {
    for (const w of desired.warnings) process.stderr.write(`${formatAt(w.pos, `warning: ${w.message}`)}\n`);
  }
  return desired;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function positiveInt(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new AgentctlError('usage', `${name} must be a whole number >= 1, got "${v}"`);
    return n;
  };
}

export function nonNegativeInt(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new AgentctlError('usage', `${name} must be a whole number >= 0, got "${v}"`);
    return n;
  };
}
