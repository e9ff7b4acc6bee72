/** Numbers the kernel publishes under /proc, read from this host. */
import { promises as fs, readFileSync } from 'node:fs';

/** The first number in `file` (a /proc or /sys value), or undefined when it is missing or not positive. */
export async function readProcNumber(file: string): Promise<number | undefined> {
  return firstNumber(await fs.readFile(file, 'utf8').catch(() => ''));
}

/** As readProcNumber, synchronously: for an error path that reports at once (a refused file watch). */
export function readProcNumberSync(file: string): number | undefined {
  try {
    return firstNumber(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function firstNumber(text: string): number | undefined {
  const n = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The soft and hard "Max open files" of a /proc/PID/limits text (undefined: unlimited, or not there). */
export function openFilesLimits(limits: string): { soft?: number; hard?: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const n = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** The soft "Max open files" of a /proc/PID/limits text (undefined: unlimited, or not there). */
export function softOpenFiles(limits: string): number | undefined {
  return openFilesLimits(limits).soft;
}

/** kernel.pid_max: the most tasks (processes and threads) this host can have at once. */
export const readPidMax = (): Promise<number | undefined> => readProcNumber('/proc/sys/kernel/pid_max');
