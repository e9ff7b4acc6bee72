/** Human forms of the units agents.yaml uses, so output reads like the file. */
const UNITS: [string, number][] = [
  ['g', 1024 ** 3],
  ['m', 1024 ** 2],
  ['k', 1024],
];

/**
 * 2147483648 -> "2g"; 1610612736 -> "1536m": exact, as a file writes a limit. A size that is no whole
 * number of megabytes (a host's memory, 25275990016) is approximated ("24GiB"), never `24683584k`.
 */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 !== 0) return humanBytes(bytes);
  for (const [unit, size] of UNITS) if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}b`;
}

export function formatCpus(nanoCpus: number): string {
  return String(Math.round(nanoCpus / 1e6) / 1e3);
}

/** 3725 s -> "1h2m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

/** Approximate sizes for measurements (disk and memory use): 1536 -> "1.5KiB", 0 -> "0B". */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = i === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text}${units[i]}`;
}
