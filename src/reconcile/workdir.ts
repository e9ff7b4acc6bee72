/**
 * Agent working directories on the host. Data safety lives here: we never follow a symlink out of
 * runtimeDir, a directory is never emptied, and it is re-owned only to follow its own agent's uid.
 */
import type { DockerPort } from '../docker/port.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import type { AgentSpec } from '../types.js';
import type { AgentUser } from '../docker/container-config.js';

export { WORKDIRS, workDirOf } from '../config/defaults.js';

/** Throws 'unsafe' if any existing component from runtimeDir down to `target` is a symlink. */
export function assertNoSymlinks(
  runtimeDir: string,
  target: string,
  host: HostFs = localHostFs,
): Promise<void> {
  return host.assertNoSymlinks(runtimeDir, target);
}

/** Who owns an agent's working directory: the user its processes run as. */
export type Owner = AgentUser;

/**
 * Resolves the uid/gid an agent's processes run as, so a fresh working directory can be given to them:
 * an agent running as a non-root user must be able to write /mnt. Results are cached per image and user.
 */
export class OwnerResolver {
  private readonly cache = new Map<string, Promise<Owner | undefined>>();
  private readonly dirCache = new Map<string, Promise<Owner | undefined>>();

  constructor(private readonly port: DockerPort) {}

  /**
   * Who should own the agent's working directory: its user, root included (undefined only when the
   * user is unknown; the engine then refuses to start the container and says so).
   */
  dirOwner(spec: Pick<AgentSpec, 'image' | 'user'>): Promise<Owner | undefined> {
    const key = `${spec.image}\0${spec.user ?? ''}`;
    let p = this.dirCache.get(key);
    if (!p) {
      p = this.resolve(spec).then(
        async (owner) => owner ?? ((await this.isRootUser(spec)) ? { uid: 0, gid: 0 } : undefined),
      );
      this.dirCache.set(key, p);
    }
    return p;
  }

  private async isRootUser(spec: Pick<AgentSpec, 'image' | 'user'>): Promise<boolean> {
    const user = spec.user ?? (await this.port.inspectImage(spec.image))?.user ?? '';
    const name = user.split(':')[0] ?? '';
    return name === '' || name === 'root' || name === '0';
  }

  /** The agent's non-root user; undefined for root (and for a user the image does not know). */
  resolve(spec: Pick<AgentSpec, 'image' | 'user'>): Promise<Owner | undefined> {
    const key = `${spec.image}\0${spec.user ?? ''}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.lookup(spec);
      this.cache.set(key, p);
    }
    return p;
  }

  private async lookup(spec: Pick<AgentSpec, 'image' | 'user'>): Promise<Owner | undefined> {
    const user = spec.user ?? (await this.port.inspectImage(spec.image))?.user ?? '';
    const [name = '', group] = user.split(':');
    if (name === '' || name === 'root' || name === '0') return undefined;
    const numeric = /^\d+$/;
    let uid = numeric.test(name) ? Number(name) : undefined;
    let gid = group !== undefined && numeric.test(group) ? Number(group) : undefined;
    if (uid === undefined || gid === undefined) {
      const passwd = parseColonFile(
        (await this.port.readImageFile(spec.image, '/etc/passwd'))?.toString('utf8'),
      );
      const entry = passwd.find((f) => (uid === undefined ? f[0] === name : Number(f[2]) === uid));
      if (uid === undefined) uid = entry ? Number(entry[2]) : undefined;
      if (gid === undefined && group !== undefined) {
        const groups = parseColonFile(
          (await this.port.readImageFile(spec.image, '/etc/group'))?.toString('utf8'),
        );
        const g = groups.find((f) => f[0] === group);
        gid = g ? Number(g[2]) : undefined;
      }
      if (gid === undefined) gid = entry ? Number(entry[3]) : uid;
    }
    // An unknown user name: the engine will refuse to start the container and say so.
    return uid === undefined || gid === undefined ? undefined : { uid, gid };
  }
}

function parseColonFile(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** Creates the agent's working directory if missing (on `host`). Never touches an existing one. */
export function ensureWorkDir(
  runtimeDir: string,
  spec: AgentSpec,
  host: HostFs = localHostFs,
): Promise<void> {
  // The directory holding every agent's data is private to whoever runs agentctl: agents' uids exist on
  // the host too (1000 is often the first human user), and a file dropped into an agent's /mnt (say a
  // sitecustomize.py on PYTHONPATH) would run inside the agent. The bind mount does not need it reachable.
  return host.ensureWorkDir(runtimeDir, spec.workDir);
}

/**
 * Makes the working directory the agent's: owned by the user the agent runs as, so it can write /mnt.
 *
 * An empty directory (fresh, or made by a run that died before this step) is simply handed over. A
 * directory holding data whose owner is not the agent's user means the agent now runs as another uid (its
 * image or `user` changed): the whole tree is re-owned to the new uid, never following a symlink, the top
 * directory last, so a run interrupted half-way is finished by the next (the top still has the old owner).
 * Nothing is deleted, and nothing is opened up to other uids: when agentctl may not change owners (not
 * root), it refuses (see ownershipProblem) instead of making the data world-writable.
 *
 * Call it only when no container of the old owner runs on the directory any more: a file the old agent
 * writes after its tree was re-owned would keep the old owner.
 */
export async function giveToAgent(
  spec: AgentSpec,
  owners: OwnerResolver,
  host: HostFs = localHostFs,
): Promise<void> {
  const owner = await owners.dirOwner(spec);
  if (!owner) return;
  const st = await host.lstat(spec.workDir);
  if (!st || st.type !== 'directory' || (st.uid === owner.uid && st.gid === owner.gid)) return;
  if (await host.isEmptyDir(spec.workDir)) {
    // A root agent (CAP_DAC_OVERRIDE) can write a fresh directory whoever made it.
    if (owner.uid === 0 && !host.privileged) return;
    try {
      await host.chown(spec.workDir, owner.uid, owner.gid);
    } catch (err) {
      // Not root (e.g. a member of the docker group): we cannot give the empty directory away, so open
      // it up; it holds nothing yet, and the runtime directory's permissions still decide who on the host
      // can reach it.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      await host.chmod(spec.workDir, 0o777);
    }
    return;
  }
  await host.reownTree(spec.workDir, owner.uid, owner.gid);
}

/**
 * Why giveToAgent could not hand this agent's data over, found before anything is stopped: a non-empty
 * directory owned by another uid, and agentctl not running as root. undefined when it can.
 */
export async function ownershipProblem(
  spec: AgentSpec,
  owners: OwnerResolver,
  host: HostFs = localHostFs,
): Promise<string | undefined> {
  if (host.privileged) return undefined;
  const owner = await owners.dirOwner(spec);
  if (!owner) return undefined;
  const st = await host.lstat(spec.workDir).catch(() => undefined);
  if (
    st?.type !== 'directory' ||
    (st.uid === owner.uid && st.gid === owner.gid) ||
    (await host.isEmptyDir(spec.workDir))
  )
    return undefined;
  return (
    `agent ${spec.id} now runs as uid ${owner.uid}, but its working directory ${spec.workDir} holds data ` +
    `owned by uid ${st.uid}; only root can re-own it (run agentctl as root, or ` +
    `chown -R ${owner.uid}:${owner.gid} ${spec.workDir} yourself)`
  );
}
