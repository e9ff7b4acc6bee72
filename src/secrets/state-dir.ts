/**
 * agentctl's own per-project state on the host, kept under the runtime directory: the secret digest key
 * and (for egress) the gateway's policy. Directories are 0700 and never reached through a symlink, so no
 * other host user can read or plant anything there.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { assertNoSymlinks } from '../reconcile/workdir.js';

/** `<runtimeDir>/.agentctl/<project>`. */
export function projectStateDir(runtimeDir: string, project: string): string {
  return path.join(runtimeDir, '.agentctl', project);
}

/** Makes the directory (0700 at every level it creates) and checks that no component is a symlink. */
export async function ensureProjectStateDir(runtimeDir: string, project: string): Promise<string> {
  const dir = projectStateDir(runtimeDir, project);
  await assertNoSymlinks(runtimeDir, dir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await assertNoSymlinks(runtimeDir, dir);
  return dir;
}
