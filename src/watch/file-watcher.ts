/**
 * Watches one file through its directory rather than its inode, so that every way a file gets replaced
 * is seen: writes in place, editors that write a temporary file and rename it over the original, delete
 * and re-create, and `git pull` (which unlinks and re-creates changed files). Only says "something
 * happened to it": the controller re-reads the file and decides.
 */
import path from 'node:path';
import { watch as chokidarWatch } from 'chokidar';
import { readdirSync, readFileSync } from 'node:fs';
import { fileWatchLimitError, type WatchLimits } from '../errors.js';
import { readProcNumberSync, softOpenFiles } from '../util/proc-number.js';

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
  // An inotify limit is said as that limit. Met before the watch is ready (chokidar then reports the
  // error and still gets ready, watching nothing), it fails the start: a watcher that says it watches
  // and never sees a change is worse than none.
  let refused: Error | undefined;
  let ready = false;
  watcher.on('error', (err) => {
    const clear = fileWatchLimitError(file, err, watchLimits());
    if (clear && !ready) refused ??= clear;
    else onError(clear ?? (err instanceof Error ? err : new Error(String(err))));
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  ready = true;
  if (refused) {
    await watcher.close();
    throw refused;
  }
  return { close: () => watcher.close() };
}

/** Read when a watch failed (rarely, and a few bytes): synchronously, so the error is said at once. */
function watchLimits(): WatchLimits {
  let limits = '';
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    // unreadable: the limit is not named
  }
  return {
    maxUserInstances: readProcNumberSync('/proc/sys/fs/inotify/max_user_instances'),
    maxUserWatches: readProcNumberSync('/proc/sys/fs/inotify/max_user_watches'),
    nofile: softOpenFiles(limits),
    openFiles: openFiles(),
  };
}

function openFiles(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}
