/** Shared plumbing for the thin command layer: options, stdin, output. */
import { Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { cacheDir, fileParseCache, type ParseCache } from '../config/parse-cache.js';
import { AgentctlError, formatAt } from '../errors.js';
import { jsonText } from '../render/json.js';
import type { DesiredState } from '../types.js';
import { parseSince } from '../util/duration.js';
import { BUILD_ID } from './build-id.js';

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
  const desired = await loadConfig(file, { cwd: process.cwd(), readStdin, cache: cliParseCache() });
  if (!opts.quietWarnings) {
    for (const w of desired.warnings) process.stderr.write(`${formatAt(w.pos, `warning: ${w.message}`)}\n`);
  }
  return desired;
}

/** The bundled CLI keeps parsed files (config/parse-cache.ts); run from source, it has no build id to key them by. */
function cliParseCache(): ParseCache | undefined {
  const dir = cacheDir();
  return BUILD_ID !== undefined && dir !== undefined ? fileParseCache(dir, BUILD_ID) : undefined;
}

/** JSON on stdout, with the conventions of render/json.ts (an unknown value is `null`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${jsonText(value)}\n`);
}

export const positiveInt = (name: string) => wholeNumber(name, 1);
export const nonNegativeInt = (name: string) => wholeNumber(name, 0);

/**
 * A commander value parser for a time flag (`--since`, `--until`): checked here, so that the usage error
 * names the flag, and passed on as written (a relative time is read when the command runs).
 */
export function timeFlag(name: string): (v: string) => string {
  return (v: string) => {
    parseSince(v, Date.now(), name);
    return v;
  };
}

/** A commander value parser for a whole-number flag, with a usage error naming the flag. */
function wholeNumber(name: string, min: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new AgentctlError('usage', `${name} must be a whole number >= ${min}, got "${v}"`);
    }
    return n;
  };
}
