/**
 * The `healthcheck` field: its default, its bounds, and how a layer's value becomes an AgentSpec's.
 *
 * The default probe is `/sbin/docker-init --version`. The engine bind-mounts its init at that path into
 * every container started with `init: true` (agentctl's default), so the probe exists in every image,
 * FROM scratch included, and needs no shell. It proves what every agent needs and a crash-loop check
 * cannot see: the engine can still start a process inside the sandbox (an agent at its pids limit, out
 * of memory or with a broken mount namespace fails it). Without init there is no such binary, so an
 * agent with `init: false` and no healthcheck of its own gets none, with a warning.
 */
import type { Healthcheck } from '../types.js';
import { durationMs, formatDuration } from '../util/duration.js';
import { describeValue } from './describe.js';
import type { FieldPath } from './field-path.js';
import type { RawHealthcheck } from './raw.js';

/** Where the engine puts its init (docker-init, tini) when a container is started with init. */
export const DOCKER_INIT = '/sbin/docker-init';

/** The default probe: run the engine's init, which every agent with `init: true` has. */
export const INIT_PROBE: readonly string[] = [DOCKER_INIT, '--version'];

/**
 * Timing of the default probe, and of any healthcheck that leaves a value out. One probe (an exec: dockerd,
 * containerd, the shim and a runc process) cost the engine 82-138 ms of CPU here (Docker 20.10, a loaded
 * 2-core host; scripts/bench-health.mjs). At 1000 agents every 30 s is 33 probes/s, 2.7-4.6 cores; every
 * 5 minutes is 3.3 probes/s, 0.27-0.46 of a core. An unhealthy agent is then seen within about 15 minutes
 * (3 failures); a file that wants it sooner sets its own interval.
 */
export const HEALTHCHECK_DEFAULTS = {
  intervalMs: 300_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
} as const;

/** Bounds of each duration, in ms, with the reason for the lower one. */
export const HEALTHCHECK_BOUNDS = {
  interval: { min: 1000, max: 86_400_000, why: 'a probe is a process started in the agent' },
  timeout: { min: 1000, max: 3_600_000, why: 'the engine needs time to start the probe' },
  startPeriod: { min: 0, max: 86_400_000, why: '' },
} as const;

export type DurationField = keyof typeof HEALTHCHECK_BOUNDS;

/** A layer's healthcheck: only what it writes (the rest is filled in once the layers are merged). */
export type LayerHealthcheck = 'none' | 'image' | Partial<Healthcheck>;

export interface HealthcheckChecks {
  problem(path: FieldPath, message: string): void;
}

/** A layer's `healthcheck` as written; durations checked against their bounds. */
export function convertHealthcheck(
  raw: NonNullable<RawHealthcheck> | 'none' | 'image',
  path: FieldPath,
  checks: HealthcheckChecks,
): LayerHealthcheck {
  if (typeof raw === 'string') return raw;
  const out: Partial<Healthcheck> = {};
  if (raw.command !== undefined)
    out.command = typeof raw.command === 'string' ? raw.command : [...raw.command];
  if (raw.retries !== undefined) out.retries = raw.retries;
  const durations: [DurationField, 'intervalMs' | 'timeoutMs' | 'startPeriodMs'][] = [
    ['interval', 'intervalMs'],
    ['timeout', 'timeoutMs'],
    ['startPeriod', 'startPeriodMs'],
  ];
  for (const [field, key] of durations) {
    const value = raw[field];
    if (value === undefined) continue;
    const problem = durationProblem(field, value);
    if (problem !== undefined) checks.problem([...path, field], problem);
    else out[key] = durationMs(value);
  }
  return out;
}

/** What is wrong with `value` as the healthcheck's `field`, or undefined when it is fine. */
export function durationProblem(field: DurationField, value: unknown): string | undefined {
  const ms = typeof value === 'string' || typeof value === 'number' ? durationMs(value) : undefined;
  const got = describeValue(value);
  if (ms === undefined) return `expected a duration like 30s, 2m or 1m30s (a number is seconds), got ${got}`;
  const { min, max, why } = HEALTHCHECK_BOUNDS[field];
  if (ms < min) return `must be at least ${formatDuration(min)} (${why}), got ${got}`;
  if (ms > max) return `must be at most ${formatDuration(max)}, got ${got}`;
  return undefined;
}

export type ResolvedHealthcheck =
  | { healthcheck: Healthcheck | 'none' | 'image' }
  /** The default probe cannot run (no init) and the file gives no command. */
  | { healthcheck: 'none'; noInit: true };

/** The merged layer's healthcheck with every value filled in. */
export function resolveHealthcheck(
  layered: LayerHealthcheck | undefined,
  init: boolean,
): ResolvedHealthcheck {
  if (layered === 'none' || layered === 'image') return { healthcheck: layered };
  const given = layered ?? {};
  if (given.command === undefined && !init) return { healthcheck: 'none', noInit: true };
  return {
    healthcheck: {
      ...HEALTHCHECK_DEFAULTS,
      ...given,
      command: given.command ?? [...INIT_PROBE],
    },
  };
}

/** Whether a healthcheck is the default probe (the engine adapter moves it to Podman's init path). */
export function isInitProbe(command: Healthcheck['command']): boolean {
  return (
    Array.isArray(command) && command.length === 2 && command[0] === DOCKER_INIT && command[1] === '--version'
  );
}

/** The warning for an agent without init and without a healthcheck command. */
export const NO_INIT_HEALTHCHECK =
  `has no healthcheck: the default probe runs ${DOCKER_INIT}, which the engine adds only with init: true; ` +
  'set healthcheck.command to a probe of its image, or write healthcheck: none to say so';
