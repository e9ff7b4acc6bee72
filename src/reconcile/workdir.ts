/**
 * Agent working directories on the host. Data safety lives here: we never follow a symlink out of
 * runtimeDir, and an existing directory is never re-owned or emptied.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AgentctlError } from '../errors.js';
import type { DockerPort } from '../docker/port.js';
import type { AgentSpec } from '../types.js';
import type { AgentUser } from '../docker/container-config.js';

export { WORKDIRS, workDirOf } from '../config/defaults.js';

/** Throws 'unsafe' if any existing component from runtimeDir down to `target` is a symlink. */
export async function assertNoSymlinks(runtimeDir: string, target: string): Promise<void> {
  const rel = path.relative(runtimeDir, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new AgentctlError('unsafe', `${target} is outside the runtime directory ${runtimeDir}`);
  }
  let cur = runtimeDir;
  for (const part of ['', ...rel.split(path.sep).filter(Boolean)]) {
    cur = part ? path.join(cur, part) : cur;
    const st = await fs.lstat(cur).catch(() => undefined);
    if (!st) return; // the rest does not exist yet
    if (st.isSymbolicLink()) {
      throw new AgentctlError(
        'unsafe',
        `${cur} is a symlink; agentctl refuses to follow it (data must stay inside ${runtimeDir})`,
      );
    }
  }
}

/** Who owns an agent's working directory: the user its processes run as. */
export type Owner = AgentUser;

/**
 * Resolves the uid/gid an agent's processes run as, so a fresh working directory can be given to them:
 * an agent running as a non-root user must be able to write /mnt. Results are cached per image and user.
 */
export class OwnerResolver {
  private readonly cache = new Map<string, Promise<Owner | undefined>>();

  constructor(private readonly port: DockerPort) {}

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

/** Creates the agent's working directory if missing. Never touches an existing one. */
export async function ensureWorkDir(runtimeDir: string, spec: AgentSpec): Promise<void> {
  await assertNoSymlinks(runtimeDir, spec.workDir);
  // The directory holding every agent's data is private to whoever runs agentctl: agents' uids exist on
  // the host too (1000 is often the first human user), and a file dropped into an agent's /mnt (say a
  // sitecustomize.py on PYTHONPATH) would run inside the agent. The bind mount does not need it reachable.
  await fs.mkdir(path.dirname(path.dirname(spec.workDir)), { recursive: true, mode: 0o755 });
  await fs.mkdir(path.dirname(spec.workDir), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  try {
    await fs.mkdir(spec.workDir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await fs.lstat(spec.workDir);
    if (!st.isDirectory()) throw new AgentctlError('unsafe', `${spec.workDir} exists and is not a directory`);
  }
}

/**
 * Gives an empty working directory to the user the agent runs as, so a non-root agent can write /mnt.
 * Only an empty one: a directory holding data keeps the owner it has, and a directory created by a run
 * that died before this step still gets handed over by the next.
 */
export async function giveToAgent(spec: AgentSpec, owners: OwnerResolver): Promise<void> {
  const owner = await owners.resolve(spec);
  if (!owner) return;
  const st = await fs.lstat(spec.workDir);
  if (!st.isDirectory() || (st.uid === owner.uid && st.gid === owner.gid) || !(await isEmpty(spec.workDir)))
    return;
  try {
    await fs.chown(spec.workDir, owner.uid, owner.gid);
  } catch (err) {
    // Not root (e.g. a member of the docker group): we cannot give the directory away, so open it up;
    // the runtime directory's own permissions still decide who on the host can reach it.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    await fs.chmod(spec.workDir, 0o777);
  }
}

async function isEmpty(dir: string): Promise<boolean> {
  const handle = await fs.opendir(dir);
  try {
    return (await handle.read()) === null;
  } finally {
    await handle.close();
  }
}
