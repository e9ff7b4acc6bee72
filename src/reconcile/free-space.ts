/**
 * Free space and inodes where the working directories live. On a full filesystem, apply used to report
 * success and the agents then could not write /mnt: below a minimum, a run that creates containers is
 * refused before anything changes, and any other run (a no-op too) warns. ps and inspect show the same
 * figures, flagged when short or close to the minimum.
 *
 * Minimums: `--min-free SIZE` / `--min-free-inodes N` on apply, over AGENTCTL_MIN_FREE (a size, default
 * 100m) and AGENTCTL_MIN_FREE_INODES (default 1000).
 */
import { parseSize } from '../config/units.js';
import type { HostFs, HostSpace } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { AgentctlError } from '../errors.js';
import { humanBytes } from '../render/units.js';

export interface FreeSpaceMinimum {
  bytes: number;
  inodes: number;
  /** Where each minimum came from, for the messages: the flag or the variable that set it. */
  bytesFrom: string;
  inodesFrom: string;
}

export const DEFAULT_MIN_FREE = 100 * 1024 ** 2;
export const DEFAULT_MIN_FREE_INODES = 1000;

/** The minimums: the flags where given, else the environment, else the defaults. */
export function freeSpaceMinimum(
  env: NodeJS.ProcessEnv = process.env,
  flags: { minFree?: string; minFreeInodes?: string } = {},
): FreeSpaceMinimum {
  const pick = (flag: string | undefined, flagName: string, variable: string) =>
    flag !== undefined
      ? { text: flag, from: flagName }
      : env[variable]
        ? { text: env[variable] ?? '', from: variable }
        : undefined;
  const b = pick(flags.minFree, '--min-free', 'AGENTCTL_MIN_FREE');
  const i = pick(flags.minFreeInodes, '--min-free-inodes', 'AGENTCTL_MIN_FREE_INODES');
  const bytes = b ? parseSize(b.text) : DEFAULT_MIN_FREE;
  if (bytes === undefined)
    throw new AgentctlError('usage', `${b?.from} must be a size (e.g. 100m, 0 for none), got "${b?.text}"`);
  const inodes = i ? Number(i.text) : DEFAULT_MIN_FREE_INODES;
  if (!/^\d+$/.test(i?.text ?? '0') || !Number.isSafeInteger(inodes))
    throw new AgentctlError('usage', `${i?.from} must be a whole number (0 for none), got "${i?.text}"`);
  return {
    bytes,
    inodes,
    bytesFrom: b?.from ?? 'AGENTCTL_MIN_FREE',
    inodesFrom: i?.from ?? 'AGENTCTL_MIN_FREE_INODES',
  };
}

/** `ok`; `low`: less than twice a minimum left; `short`: below a minimum (apply creates nothing). */
export type PressureLevel = 'ok' | 'low' | 'short';

export interface DiskPressure {
  /** The directory asked about (the nearest existing one at or above the working directories). */
  path: string;
  freeBytes: number;
  /** null on filesystems without inode accounting (they report 0 files). */
  freeInodes: number | null;
  minFreeBytes: number;
  minFreeInodes: number;
  level: PressureLevel;
}

/** Pure: the level of a filesystem's free figures against the minimums. */
export function pressureLevel(
  free: { bytes: number; inodes: number | null },
  min: Pick<FreeSpaceMinimum, 'bytes' | 'inodes'>,
): PressureLevel {
  const below = (factor: number) =>
    free.bytes < min.bytes * factor || (free.inodes !== null && free.inodes < min.inodes * factor);
  return below(1) ? 'short' : below(2) ? 'low' : 'ok';
}

/** The figures of `space` (see HostFs.spaceAt) against the minimums. */
export function pressureOf(space: HostSpace, min: FreeSpaceMinimum): DiskPressure {
  // Filesystems without inode accounting report 0 files: their free inodes mean nothing.
  const freeInodes = space.totalInodes > 0 ? space.freeInodes : null;
  return {
    path: space.path,
    freeBytes: space.freeBytes,
    freeInodes,
    minFreeBytes: min.bytes,
    minFreeInodes: min.inodes,
    level: pressureLevel({ bytes: space.freeBytes, inodes: freeInodes }, min),
  };
}

/** One statfs of the filesystem holding `dir` (or its nearest existing ancestor). */
export async function diskPressure(
  dir: string,
  min: FreeSpaceMinimum = freeSpaceMinimum(),
  host: HostFs = localHostFs,
): Promise<DiskPressure> {
  return pressureOf(await host.spaceAt(dir), min);
}

/** What is short, in words, or undefined when neither figure is below its minimum. */
export function shortText(d: DiskPressure, min: FreeSpaceMinimum): string | undefined {
  const short: string[] = [];
  if (d.freeBytes < d.minFreeBytes)
    short.push(`${humanBytes(d.freeBytes)} free (minimum ${humanBytes(d.minFreeBytes)}, ${min.bytesFrom})`);
  if (d.freeInodes !== null && d.freeInodes < d.minFreeInodes)
    short.push(`${d.freeInodes} inodes free (minimum ${d.minFreeInodes}, ${min.inodesFrom})`);
  return short.length > 0 ? `the filesystem of ${d.path} has only ${short.join(' and ')}` : undefined;
}

/** The free figures and the flag, in words (ps and inspect). */
export function pressureText(d: DiskPressure): string {
  const inodes = d.freeInodes === null ? '' : `, ${d.freeInodes} inodes`;
  const figures = `${humanBytes(d.freeBytes)}${inodes} free on the filesystem of ${d.path}`;
  const mins = `minimum ${humanBytes(d.minFreeBytes)}, ${d.minFreeInodes} inodes`;
  if (d.level === 'short')
    return `${figures}: below apply's ${mins} (apply creates no agent; /mnt writes may fail)`;
  if (d.level === 'low') return `${figures}: close to apply's ${mins}`;
  return figures;
}

/** The prefix of a flagged line: `DISK SHORT: `, `disk low: `, or nothing. */
export function pressureFlag(d: DiskPressure): string {
  return d.level === 'short' ? 'DISK SHORT: ' : d.level === 'low' ? 'disk low: ' : '';
}

/** What is short on the filesystem `space` describes, or undefined when there is enough. */
export function freeSpaceProblem(space: HostSpace, min = freeSpaceMinimum()): string | undefined {
  return shortText(pressureOf(space, min), min);
}
