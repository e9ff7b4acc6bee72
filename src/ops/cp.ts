/**
 * cp: copy files and directories between the host and an agent, like `docker cp`, through the engine's
 * archive endpoints. Inside the agent the engine confines paths to the container's filesystem; on the
 * host, extraction never writes outside the destination (src/ops/host-extract.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ID_PATTERN } from '../config/rules.js';
import { AGENT_MOUNT } from '../docker/container-config.js';
import type { DockerPort } from '../docker/port.js';
import { packTar } from '../docker/tar-writer.js';
import { AgentctlError } from '../errors.js';
import { createdSpec } from '../labels.js';
import { OwnerResolver } from '../reconcile/workdir.js';
import { type LocateOptions, locateAgent } from './locate-agent.js';
import { type ExtractTally, extractToHost } from './host-extract.js';
import { hostEntries, type PackTally } from './host-pack.js';
import { streamFromAgent, streamIntoAgent } from './cp-stream.js';
import type { ResolvedAgent } from './resolve-agent.js';

export type CopyEndpoint =
  | { kind: 'host'; path: string }
  | { kind: 'agent'; agent: string; path: string }
  /** `-`: a tar stream, read from `stdin` as a source, written to `stdout` as a destination. */
  | { kind: 'stream' };

export interface CopyOptions extends LocateOptions {
  /** Resolve the agent id in this project only. */
  project?: string;
  /** Host paths are relative to this (default: the current directory). */
  cwd?: string;
  /** Where a `-` source is read from (a tar stream). */
  stdin?: AsyncIterable<Buffer>;
  /** Where a `-` destination is written to (the tar stream; nothing else is written there). */
  stdout?: NodeJS.WritableStream;
}

export interface CopyResult {
  direction: 'from-agent' | 'to-agent';
  agent: string;
  project: string;
  /** As resolved: an absolute host path, `agent:/absolute/path`, or `-` for a tar stream. */
  source: string;
  destination: string;
  files: number;
  directories: number;
  links: number;
  bytes: number;
  /** Entries not copied, with why (the copy then fails after copying the rest). */
  skipped: string[];
}

/**
 * `ID:/path` names a path in an agent (an id has no `/`); `-` a tar stream; anything else is a host path
 * (`./a:b` and `./-` too).
 */
export function parseCopyArg(arg: string): CopyEndpoint {
  if (arg === '-') return { kind: 'stream' };
  const colon = arg.indexOf(':');
  if (colon === -1) return { kind: 'host', path: arg };
  const agent = arg.slice(0, colon);
  if (!ID_PATTERN.test(agent)) return { kind: 'host', path: arg };
  return { kind: 'agent', agent, path: arg.slice(colon + 1) };
}

/**
 * A path inside the agent: relative paths are relative to its working directory (/mnt). `..` is refused
 * rather than resolved, so a path always means what it says.
 */
export function agentPath(p: string): string {
  if (p === '') throw new AgentctlError('usage', 'the path in the agent is empty (write ID:/mnt/file)');
  if (p.split('/').includes('..')) {
    throw new AgentctlError(
      'usage',
      `path ${JSON.stringify(p)} in the agent contains "..": write it without`,
    );
  }
  return path.posix.resolve(AGENT_MOUNT, p);
}

export async function copy(src: string, dest: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const from = parseCopyArg(src);
  const to = parseCopyArg(dest);
  if (from.kind === 'agent' && to.kind === 'agent') {
    throw new AgentctlError('usage', 'copy between two agents is not supported: copy to the host first');
  }
  if (from.kind !== 'agent' && to.kind !== 'agent') {
    throw new AgentctlError(
      'usage',
      'one side must be an agent path, written ID:/path (e.g. agent-001:/mnt/out); `-` is a tar stream to or from an agent',
    );
  }
  const cwd = opts.cwd ?? process.cwd();
  // The host side is this machine's disk; the agent's side goes over its engine's archive API, so an
  // agent on another engine (even on another machine) copies the same way.
  if (from.kind === 'agent' && to.kind === 'stream') {
    if (!opts.stdout) throw new AgentctlError('usage', 'cp to `-` needs a stream to write the tar to');
    const agent = await locateAgent(from.agent, opts);
    return copyAgentToStream(agent.port, agent, agentPath(from.path), opts.stdout);
  }
  if (from.kind === 'stream' && to.kind === 'agent') {
    if (!opts.stdin) throw new AgentctlError('usage', 'cp from `-` needs a stream to read the tar from');
    const agent = await locateAgent(to.agent, opts);
    return copyStreamToAgent(agent.port, agent, opts.stdin, agentPath(to.path));
  }
  if (from.kind === 'agent' && to.kind === 'host') {
    const agent = await locateAgent(from.agent, opts);
    return copyFromAgent(agent.port, agent, agentPath(from.path), to.path, cwd);
  }
  if (from.kind === 'host' && to.kind === 'agent') {
    const agent = await locateAgent(to.agent, opts);
    return copyToAgent(
      agent.port,
      agent,
      path.resolve(cwd, from.path),
      agentPath(to.path),
      dest.endsWith('/'),
    );
  }
  throw new Error('unreachable');
}

async function copyFromAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  srcPath: string,
  destArg: string,
  cwd: string,
): Promise<CopyResult> {
  const destAbs = path.resolve(cwd, destArg);
  // Every component the user wrote, not only the last: `dst/link/file` writes through `link` as surely
  // as `dst/link/` does (an agent's working directory on the host can hold links the agent made).
  const link = await symlinkOnPath(cwd, destArg);
  if (link) {
    const real = await fs.realpath(link).catch(() => undefined);
    throw new AgentctlError(
      'unsafe',
      `destination ${destAbs}: ${link} is a symlink${real ? ` (to ${real})` : ''}; agentctl does not write through symlinks (name the real path)`,
    );
  }
  const destSt = await fs.lstat(destAbs).catch(() => undefined);
  if (!destSt && /[/\\]$/.test(destArg)) {
    throw new AgentctlError('not-found', `destination directory ${destAbs} does not exist`);
  }
  const parent = destSt?.isDirectory() ? destAbs : path.dirname(destAbs);
  // The parent is the user's own choice of place: its real path is where the copy is confined to.
  const dir = await fs.realpath(parent).catch(() => {
    throw new AgentctlError('not-found', `destination directory ${parent} does not exist`);
  });
  if (!(await fs.stat(dir)).isDirectory()) {
    throw new AgentctlError('usage', `destination ${parent} is not a directory`);
  }

  const archive = await port.getArchive(agent.id, srcPath);
  if (!archive) throw await missingInAgent(port, agent, srcPath);
  const { stat, tar } = archive;
  let tally: ExtractTally;
  const targetName = destSt?.isDirectory() ? stat.name : path.basename(destAbs);
  try {
    if (destSt && !destSt.isDirectory() && stat.isDir) {
      throw new AgentctlError('usage', `cannot copy directory ${srcPath} onto file ${destAbs}`);
    }
    tally = await extractToHost(tar as AsyncIterable<Buffer>, { dir, rootName: stat.name, targetName });
  } catch (err) {
    // Whatever failed (EACCES, ENOSPC, a corrupt archive...), the response must not stay open: a
    // half-read stream keeps its connection, and the process, alive.
    (tar as Readable).destroy?.();
    throw err;
  }
  return {
    direction: 'from-agent',
    agent: agent.agentId,
    project: agent.project,
    source: `${agent.agentId}:${srcPath}`,
    destination: path.join(dir, targetName),
    files: tally.files,
    directories: tally.directories,
    links: tally.links,
    bytes: tally.bytes,
    skipped: tally.refused,
  };
}

async function copyToAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  srcAbs: string,
  destPath: string,
  destIsDir: boolean,
): Promise<CopyResult> {
  const srcSt = await fs.lstat(srcAbs).catch(() => undefined);
  if (!srcSt) throw new AgentctlError('not-found', `no such file or directory: ${srcAbs}`);
  const destSt = await port.statContainerPath(agent.id, destPath);
  if (!destSt && destIsDir) {
    throw new AgentctlError('not-found', `directory ${destPath} does not exist in agent ${agent.agentId}`);
  }
  // A symlink named with a trailing slash is a directory to copy into: the engine follows it, within
  // the container's root (a link to /etc means the container's /etc).
  const intoDir = destSt !== undefined && (destSt.isDir || (destSt.isSymlink && destIsDir));
  if (destSt && !intoDir && (srcSt.isDirectory() || destIsDir)) {
    throw new AgentctlError('usage', `${destPath} in agent ${agent.agentId} is not a directory`);
  }
  // Into an existing directory under the source's name; otherwise as (or over) the named path.
  const [dir, name] = intoDir
    ? [destPath, path.basename(srcAbs)]
    : [path.posix.dirname(destPath), path.posix.basename(destPath)];
  const owner = await agentOwner(port, agent);
  const tally: PackTally = { files: 0, directories: 0, links: 0, bytes: 0, skipped: [] };
  const tar = Readable.from(packTar(hostEntries(srcAbs, name, owner, tally)));
  await port.putArchive(agent.id, dir, tar);
  return {
    direction: 'to-agent',
    agent: agent.agentId,
    project: agent.project,
    source: srcAbs,
    destination: `${agent.agentId}:${path.posix.join(dir, name)}`,
    files: tally.files,
    directories: tally.directories,
    links: tally.links,
    bytes: tally.bytes,
    skipped: tally.skipped,
  };
}

async function copyAgentToStream(
  port: DockerPort,
  agent: ResolvedAgent,
  srcPath: string,
  out: NodeJS.WritableStream,
): Promise<CopyResult> {
  const archive = await port.getArchive(agent.id, srcPath);
  if (!archive) throw await missingInAgent(port, agent, srcPath);
  const tally = await streamFromAgent(archive.tar, out);
  return {
    direction: 'from-agent',
    agent: agent.agentId,
    project: agent.project,
    source: `${agent.agentId}:${srcPath}`,
    destination: '-',
    ...tally,
  };
}

/** As docker cp: the tar's entries land in `destPath`, which must be an existing directory. */
async function copyStreamToAgent(
  port: DockerPort,
  agent: ResolvedAgent,
  input: AsyncIterable<Buffer>,
  destPath: string,
): Promise<CopyResult> {
  const destSt = await port.statContainerPath(agent.id, destPath);
  if (!destSt) {
    throw new AgentctlError('not-found', `directory ${destPath} does not exist in agent ${agent.agentId}`);
  }
  // A link to a directory is followed by the engine, within the container's root (as docker does).
  if (!destSt.isDir && !destSt.isSymlink) {
    throw new AgentctlError(
      'usage',
      `${destPath} in agent ${agent.agentId} is not a directory: a tar stream is extracted into a directory`,
    );
  }
  const tally = await streamIntoAgent(port, agent, input, destPath, await agentOwner(port, agent));
  return {
    direction: 'to-agent',
    agent: agent.agentId,
    project: agent.project,
    source: '-',
    destination: `${agent.agentId}:${destPath}`,
    ...tally,
  };
}

/**
 * The first existing symlink among the components of `dest` as written: below `cwd` for a relative
 * path that stays under it (the directory the user is in is theirs, however they reached it), from `/`
 * for an absolute path or one that climbs out with `..`.
 */
export async function symlinkOnPath(cwd: string, dest: string): Promise<string | undefined> {
  const abs = path.resolve(cwd, dest);
  const rel = path.relative(cwd, abs);
  const fromCwd = !path.isAbsolute(dest) && rel !== '..' && !rel.startsWith(`..${path.sep}`);
  const base = fromCwd ? cwd : path.parse(abs).root;
  let at = base;
  for (const part of path.relative(base, abs).split(path.sep).filter(Boolean)) {
    at = path.join(at, part);
    const st = await fs.lstat(at).catch(() => undefined);
    if (!st) return undefined; // nothing further exists: nothing further to follow
    if (st.isSymbolicLink()) return at;
  }
  return undefined;
}

/** The uid/gid the agent runs as, so what it is given is its own (root when it runs as root). */
async function agentOwner(port: DockerPort, agent: ResolvedAgent): Promise<{ uid: number; gid: number }> {
  const details = await port.inspectContainer(agent.id);
  const spec = createdSpec(details?.labels);
  const image = details?.image;
  if (!image) return { uid: 0, gid: 0 };
  const user = typeof spec?.user === 'string' ? spec.user : undefined;
  return (await new OwnerResolver(port).resolve({ image, user })) ?? { uid: 0, gid: 0 };
}

/** Not found: say so, and why when the path is on a tmpfs mount (the archive API cannot see those). */
async function missingInAgent(port: DockerPort, agent: ResolvedAgent, p: string): Promise<AgentctlError> {
  const details = await port.inspectContainer(agent.id);
  const spec = createdSpec(details?.labels);
  const tmpfs = Object.keys((spec?.tmpfs as Record<string, string> | undefined) ?? {});
  const mount = tmpfs.find((m) => p === m || p.startsWith(`${m}/`));
  const hint = mount
    ? ` (${mount} is a tmpfs mount, which the engine's archive API cannot read: copy the file to ${AGENT_MOUNT} first)`
    : '';
  return new AgentctlError('not-found', `no such file or directory in agent ${agent.agentId}: ${p}${hint}`);
}
