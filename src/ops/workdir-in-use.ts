/**
 * Whether a working directory is still in use: the one check every operation that deletes agent data
 * (rm --data, down --data, cleanup) makes first. A directory is in use while any container on the
 * engine (ours or not, running or not) has a mount whose host source is the directory, lies inside it,
 * or contains it (a container mounting the whole runtime directory uses every agent's data). Only
 * agentctl's own HostFs helpers are left out: they mount the runtime directory to carry out these very
 * operations, and with them every remote directory would be in use for a minute after each command.
 */
import path from 'node:path';
import type { DockerPort } from '../docker/port.js';
import { LABEL } from '../labels.js';
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { toAgentctlError } from '../errors.js';

/** Every container's mount sources, taken in one list call. */
export interface MountSnapshot {
  mounts: { container: string; sources: string[] }[];
  /** The host the sources are paths on (the engine's), where `dir`s are resolved too. */
  host?: HostFs;
}

/** Mount sources are paths on the engine's host: `host` is that host's filesystem. */
export async function mountSnapshot(port: DockerPort, host: HostFs = localHostFs): Promise<MountSnapshot> {
  const containers = (await port.listContainers({})).filter(
    (c) => c.labels[LABEL.hostFsHelper] === undefined,
  );
  const mounts = await Promise.all(
    containers.map(async (c) => {
      // A port that reports only the /mnt mount still gives that one.
      const given = c.mountSources ?? (c.workDir ? [c.workDir] : []);
      return { container: c.name, sources: await withRealPaths(given, host) };
    }),
  );
  return { mounts: mounts.filter((m) => m.sources.length > 0), host };
}

/** Names of the containers in `snapshot` whose mounts overlap `dir` (sorted; empty: not in use). */
export async function usersOf(snapshot: MountSnapshot, dir: string): Promise<string[]> {
  const forms = await withRealPaths([dir], snapshot.host ?? localHostFs);
  const users = snapshot.mounts
    .filter((m) => m.sources.some((s) => forms.some((d) => overlaps(s, d))))
    .map((m) => m.container);
  return [...new Set(users)].sort();
}

/** The containers using `dir` now (one list call). */
export async function workDirUsers(
  port: DockerPort,
  dir: string,
  host: HostFs = localHostFs,
): Promise<string[]> {
  return usersOf(await mountSnapshot(port, host), dir);
}

/** Why a directory in use is left alone, for messages. */
export function inUseReason(users: string[]): string {
  return `still mounted by container${users.length === 1 ? '' : 's'} ${users.join(', ')}`;
}

/** Each path as given (made absolute) and, where it exists, with symlinks resolved. */
async function withRealPaths(paths: string[], host: HostFs): Promise<string[]> {
  const out = new Set<string>();
  for (const p of paths) {
    const abs = path.resolve(p);
    out.add(abs);
    out.add(await host.realpath(abs));
  }
  return [...out];
}

/** a and b are the same path, or one lies inside the other. */
function overlaps(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}

function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** An engine as the in-use check sees it: its port, and the filesystem of its host. */
export interface MountingEngine {
  name: string;
  port: DockerPort;
  host: HostFs;
}

/** An engine of the machine that could not say which containers it has: nothing on that disk is unused. */
export interface UnansweredEngine {
  name: string;
  message: string;
}

/**
 * Every container's mounts on several engines of ONE machine (fleet/same-host.ts says which), each
 * named `NAME on engine E` so that a message says where the user finds it. An engine that does not
 * answer is returned with why: its containers are unknown, so the caller must take nothing on that
 * disk as unused.
 */
export async function enginesMountSnapshot(
  engines: readonly MountingEngine[],
): Promise<{ snapshot: MountSnapshot; unanswered: UnansweredEngine[] }> {
  const asked = await Promise.allSettled(
    engines.map(async (e) => {
      const s = await mountSnapshot(e.port, e.host);
      return s.mounts.map((m) => ({ ...m, container: `${m.container} on engine ${e.name}` }));
    }),
  );
  const unanswered: UnansweredEngine[] = [];
  const mounts = asked.flatMap((r, i) => {
    if (r.status === 'fulfilled') return r.value;
    unanswered.push({ name: engines[i]!.name, message: toAgentctlError(r.reason).message });
    return [];
  });
  return { snapshot: { mounts, host: machineHost(engines.map((e) => e.host)) }, unanswered };
}

/** The filesystem of a machine several engines share: the same disk whichever resolves a path, this host's own side when one of them has it. */
export function machineHost(hosts: readonly HostFs[]): HostFs {
  return hosts.find((h) => h === localHostFs) ?? hosts[0] ?? localHostFs;
}

/** `engine a, b on the same host could not be asked whether a container of it mounts WHAT`. */
export function unansweredReason(names: readonly string[], what: string): string {
  const them = names.length === 1 ? 'it' : 'them';
  return `engine${names.length === 1 ? '' : 's'} ${[...names].sort().join(', ')} on the same host could not be asked whether a container of ${them} mounts ${what}`;
}
