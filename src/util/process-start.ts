/**
 * Telling a process apart from a later one that reuses its pid: a pid and its start time name one process
 * for as long as the machine runs. Used by the project lock and by the sweep of throwaway containers.
 */
import { readFileSync } from 'node:fs';

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined where
 * /proc cannot tell.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses: skip past the last.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** The process `pid` runs and, when `start` is given, is the one that started then. */
export function processAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  const now = processStart(pid);
  // Unreadable (no /proc): only the pid can tell, and it says alive.
  return now === undefined || now === start;
}
