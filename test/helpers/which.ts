/** Where a test looks for the programs it needs, to skip loudly when one is missing. */
import { spawnSync } from 'node:child_process';

/** The path of a command on PATH (and the sbin directories), or undefined: for loud skips. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
