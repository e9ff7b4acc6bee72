/** Durations and points in time as people type them on the command line (`7d`, `1h30m`, RFC 3339). */
import { AgentctlError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `10m`, `1h30m`, `7d`, `2w` (a bare number is seconds) -> milliseconds. */
export function parseDuration(text: string, flag = 'duration'): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new AgentctlError(
      'usage',
      `${flag}: expected a duration like 90s, 10m, 1h30m or 7d, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** As parseDuration, for values that are checked rather than thrown about (agents.yaml): undefined if invalid. */
export function durationMs(text: string | number): number | undefined {
  if (typeof text === 'number')
    return Number.isFinite(text) && text >= 0 ? Math.round(text * 1000) : undefined;
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (value === '' || parts.map((p) => p[0]).join('') !== value) return undefined;
  return Math.round(parts.reduce((ms, [, n, unit]) => ms + Number(n) * (UNIT_MS[unit ?? ''] ?? 0), 0));
}

/** The shortest exact spelling: 120000 -> `2m`, 90000 -> `1m30s`, 1500 -> `1500ms`, 0 -> `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/**
 * `--since` as docker reads it: a duration before `now` (`10m`), an RFC 3339 date or time
 * (`2024-05-01T10:00:00Z`, `2024-05-01`), or a unix timestamp (`1714557600`) -> unix seconds.
 */
export function parseSince(text: string, now = Date.now(), flag = 'since'): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) {
      throw new AgentctlError('usage', `${flag}: ${JSON.stringify(text)} is not a valid date or time`);
    }
    return ms / 1000;
  }
  try {
    return (now - parseDuration(value, flag)) / 1000;
  } catch {
    throw new AgentctlError(
      'usage',
      `${flag}: expected a duration (10m, 1h30m), an RFC 3339 time (2024-05-01T10:00:00Z) or a unix timestamp, got ${JSON.stringify(text)}`,
    );
  }
}
