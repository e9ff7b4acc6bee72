/**
 * `-e KEY=VALUE` and `-e KEY`, as docker reads them: `KEY` alone passes the caller's own KEY through, and
 * is left out when the caller has no KEY (docker does the same: unset means not passed, never empty).
 */
import { AgentctlError } from '../errors.js';

export function collectEnv(v: string, prev: string[] = []): string[] {
  if (v === '' || v.startsWith('='))
    throw new AgentctlError('usage', `--env takes KEY=VALUE or KEY, got "${v}"`);
  return [...prev, v];
}

export function parseEnv(
  entries: readonly string[] = [],
  callerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
    else if (callerEnv[e] !== undefined) env[e] = callerEnv[e] as string;
  }
  return env;
}
