/**
 * The `X-Docker-Container-Path-Stat` header of the archive endpoints (base64 JSON with a Go FileMode)
 * -> ContainerPathStat.
 */
import type { ContainerPathStat } from './port.js';

// Go's os.FileMode type bits.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export function parsePathStat(header: string | string[] | undefined): ContainerPathStat | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  try {
    const raw = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as {
      name?: string;
      size?: number;
      mode?: number;
      linkTarget?: string;
    };
    const mode = Number(raw.mode ?? 0);
    return {
      name: String(raw.name ?? ''),
      size: Number(raw.size ?? 0),
      // Bit tests on numbers above 2^31 need arithmetic, not `&` (which works on 32-bit signed ints).
      isDir: Math.floor(mode / MODE_DIR) % 2 === 1,
      isSymlink: Math.floor(mode / MODE_SYMLINK) % 2 === 1,
      linkTarget: String(raw.linkTarget ?? ''),
      mode: mode % 0o1000,
    };
  } catch {
    return undefined;
  }
}
