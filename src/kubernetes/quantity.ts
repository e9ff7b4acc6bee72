/** Docker's exact units as Kubernetes quantities: the largest binary unit that divides them exactly. */

export function memoryQuantity(bytes: number): string {
  for (const [unit, size] of [
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** NanoCPUs as CPUs (`2`) or millicores (`500m`); Kubernetes' finest CPU unit is a millicore. */
export function cpuQuantity(nanoCpus: number): string {
  if (nanoCpus % 1e9 === 0) return String(nanoCpus / 1e9);
  return `${Math.round(nanoCpus / 1e6)}m`;
}
