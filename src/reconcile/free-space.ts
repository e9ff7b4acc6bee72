/**
 * Free space and inodes where the working directories live. On a full filesystem, apply used to report
 * success and the agents then could not write /mnt: below a minimum, the run is refused before anything
 * changes. Minimums: AGENTCTL_MIN_FREE (a size, default 100m) and AGENTCTL_MIN_FREE_INODES (default 1000).
 */
import { promises as fs } from 'node:fs';
import { formatSize, parseSize } from '../config/units.js';
import { AgentctlError } from '../errors.js';

export interface FreeSpaceMinimum {
  bytes: number;
  inodes: number;
}

export function freeSpaceMinimum(env: NodeJS.ProcessEnv = process.env): FreeSpaceMinimum {
  const bytes = env.AGENTCTL_MIN_FREE ? parseSize(env.AGENTCTL_MIN_FREE) : 100 * 1024 ** 2;
  const inodes = env.AGENTCTL_MIN_FREE_INODES ? Number(env.AGENTCTL_MIN_FREE_INODES) : 1000;
  if (bytes === undefined || !Number.isInteger(inodes) || inodes < 0) {
    throw new AgentctlError(
      'usage',
      'AGENTCTL_MIN_FREE must be a size (e.g. 100m, 0 for none) and AGENTCTL_MIN_FREE_INODES a whole number',
    );
  }
  return { bytes, inodes };
}

/** What is short on the filesystem holding `dir`, or undefined when there is enough. */
export async function freeSpaceProblem(dir: string, min = freeSpaceMinimum()): Promise<string | undefined> {
  const st = await fs.statfs(dir);
  const freeBytes = st.bavail * st.bsize;
  const short: string[] = [];
  if (freeBytes < min.bytes)
    short.push(`${formatSize(freeBytes)} free (minimum ${formatSize(min.bytes)}, AGENTCTL_MIN_FREE)`);
  // Filesystems without inode accounting report 0 files: nothing to check there.
  if (st.files > 0 && st.ffree < min.inodes)
    short.push(`${st.ffree} inodes free (minimum ${min.inodes}, AGENTCTL_MIN_FREE_INODES)`);
  return short.length > 0 ? `the filesystem of ${dir} has only ${short.join(' and ')}` : undefined;
}
