/**
 * The project's secret digest key. A container's spec label keeps an HMAC-SHA256 of each secret under
 * this key, never the value: the label is readable by anyone who can talk to the engine, and a plain
 * hash of a short password or token could be guessed offline, while the keyed digest cannot without
 * the key, which is a 0600 file on this host. It still lets the planner see that a secret changed.
 */
import { constants, promises as fs } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { AgentctlError } from '../errors.js';
import { ensureProjectStateDir, projectStateDir } from './state-dir.js';

const KEY_FILE = 'secret-digest.key';
const KEY_BYTES = 32;

export function digestKeyPath(runtimeDir: string, project: string): string {
  return path.join(projectStateDir(runtimeDir, project), KEY_FILE);
}

/**
 * The key, made on first use when `create` (apply does); without `create` (diff, dry runs) a missing key
 * is replaced by a throwaway one: nothing is written, and every secret then shows as changed, which is
 * what the next apply will do (a container's digest can only match the key it was made with).
 */
export async function loadDigestKey(
  runtimeDir: string,
  project: string,
  opts: { create: boolean },
): Promise<Buffer> {
  const file = digestKeyPath(runtimeDir, project);
  const existing = await readKey(file);
  if (existing) return existing;
  if (!opts.create) return randomBytes(KEY_BYTES);
  await ensureProjectStateDir(runtimeDir, project);
  const key = randomBytes(KEY_BYTES);
  try {
    // wx: never overwrite (a concurrent creator's key wins, and we read it back).
    await fs.writeFile(file, key, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readKey(file);
      if (raced) return raced;
    }
    throw new AgentctlError(
      'unsafe',
      `cannot create the secret digest key ${file}: ${(err as Error).message}`,
    );
  }
}

async function readKey(file: string): Promise<Buffer | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new AgentctlError(
      'unsafe',
      code === 'ELOOP'
        ? `${file} is a symlink; agentctl refuses to follow it`
        : `cannot read the secret digest key ${file}: ${(err as Error).message}`,
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || (st.mode & 0o077) !== 0 || st.size !== KEY_BYTES) {
      throw new AgentctlError(
        'unsafe',
        `the secret digest key ${file} must be a ${KEY_BYTES}-byte file readable only by its owner (mode 0600); remove it to make a new one (agents with secrets are then recreated)`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export function secretDigest(key: Buffer, value: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(value, 'utf8').digest('hex')}`;
}
