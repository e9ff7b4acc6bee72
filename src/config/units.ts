/** Sizes (memory limits, tmpfs sizes): `512m`, `1.5g`, `1073741824`. Units are powers of 1024. */
import { describeValue } from './describe.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const PiB = 1024 ** 5;

const UNITS: Record<string, number> = { '': 1, b: 1, k: KiB, m: MiB, g: GiB };
const LARGEST_UNIT_FIRST = [
  ['g', GiB],
  ['m', MiB],
  ['k', KiB],
] as const;

/** Mirrors the schema's `size` pattern: fractions only with k, m or g, so the result is whole bytes. */
const SIZE = /^(?:(\d+)([bkmg]?)|(\d+\.\d+)([kmg]))$/i;

export interface SizeRange {
  min: number;
  /** Why `min` is the minimum, shown to the user. */
  minReason: string;
  max: number;
}

export const MEMORY_RANGE: SizeRange = { min: 6 * MiB, minReason: "Docker's minimum", max: PiB };
export const TMPFS_RANGE: SizeRange = {
  min: 1,
  minReason: 'a tmpfs of size 0 would have no limit',
  max: PiB,
};

/** Bytes, or undefined when `value` is not written as a size. Fractional bytes are rounded down. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE.exec(value);
  if (!match) return undefined;
  const [, whole, wholeUnit, fraction, fractionUnit] = match;
  const unit = UNITS[(wholeUnit ?? fractionUnit ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(whole ?? fraction) * unit);
}

/** What is wrong with `value` as a size in `range`, or undefined when it is fine. */
export function sizeProblem(value: unknown, range: SizeRange): string | undefined {
  const bytes = parseSize(value);
  const got = describeValue(value);
  if (bytes === undefined) return `expected a size like 512m or 2g, got ${got}`;
  if (bytes < range.min) return `must be at least ${formatSize(range.min)} (${range.minReason}), got ${got}`;
  if (bytes > range.max) return `must be at most 1 PiB, got ${got}`;
  return undefined;
}

/** The shortest exact spelling in the largest unit: 104857600 -> `100m`, 1.5g -> `1536m`, 1000 -> `1000`. */
export function formatSize(bytes: number): string {
  for (const [suffix, unit] of LARGEST_UNIT_FIRST) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
