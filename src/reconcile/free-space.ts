/**
 * Free space and inodes where the working directories live. On a full filesystem, apply used to report
 * success and the agents then could not write /mnt: below a minimum, the run is refused before anything
 * changes. Minimums: AGENTCTL_MIN_FREE (a size, default 100m) and AGENTCTL_MIN_FREE_INODES (default 1000).
 */
import { formatSize, parseSize } from '../config/units.js';
import { AgentctlError } from '../errors.js';
import type { HostSpace } from '../docker/host-fs.js';

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

/** What is short on the filesystem `space` describes (see HostFs.spaceAt), or undefined when there is enough. */
export function freeSpaceProblem(space: HostSpace, min = freeSpaceMinimum()): string | undefined {
  const short: string[] = [];
  if (space.freeBytes < min.bytes)
    short.push(`${formatSize(space.freeBytes)} free (minimum ${formatSize(min.bytes)}, AGENTCTL_MIN_FREE)`);
  // Filesystems without inode accounting report 0 files: nothing to check there.
  if (space.totalInodes > 0 && space.freeInodes < min.inodes)
    short.push(`${space.freeInodes} inodes free (minimum ${min.inodes}, AGENTCTL_MIN_FREE_INODES)`);
  return short.length > 0 ? `the filesystem of ${space.path} has only ${short.join(' and ')}` : undefined;
}
