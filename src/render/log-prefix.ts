/**
 * The `agent | ` prefix of multi-agent log lines: ids padded to the longest, so the lines align, and each
 * agent in its own color when color is on (src/render/color.ts decides that, per output stream).
 */
import type { LogLine } from '../ops/multi-logs.js';

/** Cyan, yellow, green, magenta, blue, red: as compose cycles them, red last (it reads as an error). */
const CYCLE = [36, 33, 32, 35, 34, 31];

export interface LogLineFormat {
  /** Prefix each line with its agent. */
  prefix: boolean;
  /** Keep the engine's timestamp (after the prefix). */
  timestamps: boolean;
}

/** Formats lines of the given agents (their order picks the colors); `color` says per stream. */
export function logLineFormatter(
  agents: readonly string[],
  format: LogLineFormat,
  color: (stream: LogLine['stream']) => boolean,
): (line: LogLine) => string {
  const width = Math.max(0, ...agents.map((a) => a.length));
  const colorOf = new Map(agents.map((a, i) => [a, CYCLE[i % CYCLE.length] as number]));
  return (line) => {
    const stamp = format.timestamps ? `${line.time} ` : '';
    if (!format.prefix) return `${stamp}${line.text}\n`;
    const label = `${line.agent.padEnd(width)} |`;
    const code = colorOf.get(line.agent) ?? CYCLE[0];
    const shown = color(line.stream) ? `\x1b[${code}m${label}\x1b[39m` : label;
    return `${shown} ${stamp}${line.text}\n`;
  };
}
