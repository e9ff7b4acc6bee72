/** Numbers the kernel publishes under /proc, read from this host. */
import { promises as fs } from 'node:fs';

/** The first number in `file` (a /proc or /sys value), or undefined when it is missing or not positive. */
export async function readProcNumber(file: string): Promise<number | undefined> {
  const n = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim().split(/\s+/)[0]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** kernel.pid_max: the most tasks (processes and threads) this host can have at once. */
export const readPidMax = (): Promise<number | undefined> => readProcNumber('/proc/sys/kernel/pid_max');
