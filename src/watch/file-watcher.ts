/**
 * Watches one file through its directory rather than its inode, so that every way a file gets replaced
 * is seen: writes in place, editors that write a temporary file and rename it over the original, delete
 * and re-create, and `git pull` (which unlinks and re-creates changed files). Only says "something
 * happened to it": the controller re-reads the file and decides.
 */
import path from 'node:path';
import { watch as chokidarWatch } from 'chokidar';

export interface FileWatch {
  close(): Promise<void>;
}

export async function watchFile(
  file: string,
  onChange: (event: string) => void,
  onError: (err: Error) => void,
): Promise<FileWatch> {
  const dir = path.dirname(file);
  const watcher = chokidarWatch(dir, {
    ignoreInitial: true,
    depth: 0,
    // Everything else in the directory (runtimeDir included) is none of our business.
    ignored: (p: string) => p !== dir && p !== file,
  });
  watcher.on('all', (event, p) => {
    if (p === file) onChange(event);
  });
  watcher.on('error', (err) => onError(err instanceof Error ? err : new Error(String(err))));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { close: () => watcher.close() };
}
