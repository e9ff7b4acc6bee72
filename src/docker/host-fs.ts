/**
 * The host-filesystem port: everything agentctl does to the disk of the machine an engine runs on, where
 * that engine bind-mounts each agent's working directory from (`<runtimeDir>/agent-working-directory/
 * <id>` -> /mnt). One HostFs per engine. The safety RULES (which directory may be created, re-owned or
 * deleted, and when) stay in src/reconcile and src/ops and are written once; a HostFs only carries out
 * the primitive steps on its host, with the semantics below, so that a remote implementation cannot
 * weaken a rule by accident.
 *
 * Implementations:
 * - local (src/docker/local-host-fs.ts): node:fs on this machine. Used for every engine that runs on
 *   this host (the default socket, another unix socket, tcp:// to a loopback or own address).
 * - remote (built by the transport work, see /work notes "i13-seam"): a short-lived helper container
 *   on that engine with the engine's runtimeDir bind-mounted, driven through the engine's DockerPort
 *   (exec, archive), so only src/docker talks to an engine and no shell over ssh is needed.
 *
 * Contract every implementation keeps (paths are absolute paths ON THAT HOST):
 * - Never follow a symlink, anywhere: lstat semantics, lchown, removal of a link removes the link.
 * - Errors: a refused operation rejects with AgentctlError kind 'unsafe' (assertNoSymlinks,
 *   ensureWorkDir on a non-directory); an operation the host does not permit (chown as non-root)
 *   rejects with an Error whose `code` is 'EPERM'; anything else rejects with an Error saying what
 *   failed on which host. A missing path is never an error where the method says "undefined".
 * - No method deletes anything except removeTree, and removeTree deletes exactly the tree it is given.
 * - Every method may be called concurrently (callers fan out with mapLimit, up to 16 at once).
 */
import type { DiskUsage } from '../util/disk-usage.js';

export type HostEntryType = 'directory' | 'file' | 'symlink' | 'other';

/** What lstat says about a path. */
export interface HostStat {
  type: HostEntryType;
  uid: number;
  gid: number;
  /** Permission bits (0o777). */
  mode: number;
  mtimeMs: number;
}

/** Free space on the filesystem holding a path (from the nearest existing ancestor). */
export interface HostSpace {
  /** The nearest existing path at or above the one asked about. */
  path: string;
  isDirectory: boolean;
  /** Whether agentctl (or the helper acting for it) can create entries in `path`. */
  writable: boolean;
  /** Bytes available to an unprivileged writer (statfs bavail * bsize). */
  freeBytes: number;
  freeInodes: number;
  /** 0 on filesystems without inode accounting (then freeInodes means nothing). */
  totalInodes: number;
}

export interface HostFs {
  /** Where this is, for messages: `this host`, or `the host of engine gpu-box`. */
  readonly where: string;
  /**
   * Whether this side may change the owner of any file (root on that host). When false, re-owning an
   * agent's data is refused instead of opening it up (see reconcile/workdir.ts ownershipProblem).
   */
  readonly privileged: boolean;
  /** lstat: undefined when `p` does not exist. */
  lstat(p: string): Promise<HostStat | undefined>;
  /**
   * Rejects 'unsafe' when `target` is not inside `root`, or when any EXISTING component from `root`
   * down to `target` (both included) is a symlink. Resolves when the rest simply does not exist yet.
   */
  assertNoSymlinks(root: string, target: string): Promise<void>;
  /**
   * Creates `workDir` = `<runtimeDir>/agent-working-directory/<id>` when missing, never touching an
   * existing one: first assertNoSymlinks(runtimeDir, workDir); then runtimeDir (recursively, 0755);
   * then agent-working-directory (0700 when made here: agents' uids exist on the host too, and must not
   * reach each other's data through it); then workDir itself (0755). Rejects 'unsafe' when workDir
   * exists and is not a directory.
   */
  ensureWorkDir(runtimeDir: string, workDir: string): Promise<void>;
  /** Whether the directory `dir` has no entries. */
  isEmptyDir(dir: string): Promise<boolean>;
  /** lchown of `p` itself. EPERM (see above) when not permitted. */
  chown(p: string, uid: number, gid: number): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  /**
   * lchown of every entry below `dir`, depth first, then of `dir` itself LAST, never following a
   * symlink: a run interrupted half-way leaves the top with the old owner, so the next run does it again.
   */
  reownTree(dir: string, uid: number, gid: number): Promise<void>;
  /** Deletes `dir` and everything in it (links as links); a missing `dir` is fine. */
  removeTree(dir: string): Promise<void>;
  /** Entry names of `dir` (unsorted); undefined when `dir` does not exist. */
  readdir(dir: string): Promise<string[] | undefined>;
  /** `p` with symlinks resolved, or `p` itself (made absolute) when it cannot be resolved. */
  realpath(p: string): Promise<string>;
  /** See HostSpace. */
  spaceAt(p: string): Promise<HostSpace>;
  /** Like `du -s` (see util/disk-usage.ts); undefined when `dir` does not exist. */
  diskUsage(dir: string, opts?: { maxEntries?: number }): Promise<DiskUsage | undefined>;
}
