/**
 * The deadline of every engine call. A stopped or hung dockerd accepts connections and never answers:
 * without a deadline every command (and the project lock it holds) would wait forever.
 */
import { AgentctlError } from '../errors.js';

/** Long enough for a create or remove on a loaded host; short enough that a hung engine is noticed. */
export const DEFAULT_ENGINE_TIMEOUT_SECONDS = 60;

let override: number | undefined;

/** `--engine-timeout`: set once by the CLI before any engine is made. 0 = no deadline. */
export function setEngineTimeoutSeconds(seconds: number): void {
  override = seconds;
}

/** The deadline in ms: `--engine-timeout`, else AGENTCTL_ENGINE_TIMEOUT (seconds), else the default. */
export function engineTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  if (override !== undefined) return override * 1000;
  const raw = env.AGENTCTL_ENGINE_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_ENGINE_TIMEOUT_SECONDS * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new AgentctlError(
      'usage',
      `AGENTCTL_ENGINE_TIMEOUT must be a number of seconds >= 0 (0: no deadline), got "${raw}"`,
    );
  }
  return n * 1000;
}
