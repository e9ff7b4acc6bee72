/** ANSI colors, only when asked: a TTY without NO_COLOR, or FORCE_COLOR. */
export interface Painter {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  magenta(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (code: number, reset: number) => (s: string) => `\x1b[${code}m${s}\x1b[${reset}m`;
const plain = (s: string) => s;

export function paint(enabled: boolean): Painter {
  if (!enabled) return { green: plain, yellow: plain, red: plain, magenta: plain, dim: plain, bold: plain };
  return {
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    red: wrap(31, 39),
    magenta: wrap(35, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/**
 * FORCE_COLOR wins, read as Node reads it: set empty, `1`, `2`, `3` or `true` turns color on even into a
 * pipe (CI logs); any other value (`0`, `false`) turns it off. Otherwise: a TTY, no NO_COLOR, a TERM
 * that is not `dumb`.
 */
export function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return ['', '1', '2', '3', 'true'].includes(force);
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}
