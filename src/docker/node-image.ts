/**
 * Images that run one of agentctl's own bundled programs (the egress gateway, the remote HostFs helper)
 * on an engine with no registry: FROM scratch, holding the node binary agentctl itself runs on
 * (process.execPath), the shared libraries `ldd` says it needs, and the program from dist/. The tag is a
 * digest of node's version and binary and of the program, so a new node or a new program is a new image.
 * The alternative, building on the debootstrapped Debian base, would need that base on every engine and
 * makes a much larger image.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentctlError } from '../errors.js';
import type { DockerPort } from './port.js';

/** Where node lives inside such an image. */
export const IMAGE_NODE = '/usr/local/bin/node';

/** dist/`script` of this package, found from wherever this module was loaded (source or bundle). */
export function bundledProgramPath(script: string, what: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, script), path.join(dir, 'dist', script)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new AgentctlError('preflight', `${what} (${script}) is missing: run npm run build`);
}

const tags = new Map<string, string>();

/** `repo:digest` for an image of `programPath` (cheap after the first call). */
export function nodeImageTag(repo: string, programPath: string): string {
  const known = tags.get(repo);
  if (known) return known;
  const node = statSync(process.execPath);
  const digest = createHash('sha256')
    .update(process.version)
    .update(`${node.size}:${node.mtimeMs}`)
    .update(readFileSync(programPath))
    .digest('hex')
    .slice(0, 16);
  const tag = `${repo}:${digest}`;
  tags.set(repo, tag);
  return tag;
}

/** The shared libraries of `binary` (and the dynamic loader), as absolute host paths. */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  } catch (err) {
    // A static binary: ldd says "not a dynamic executable" and exits 1.
    if (/not a dynamic executable/.test(String((err as { stdout?: string }).stdout ?? ''))) return [];
    throw new AgentctlError(
      'preflight',
      `cannot list the libraries of ${binary} with ldd: ${(err as Error).message}`,
    );
  }
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs].sort();
}

export interface NodeImage {
  tag: string;
  /** The program on this machine, and where the image holds it. */
  program: string;
  programTarget: string;
  /** Empty directories the image needs (mount points, scratch). */
  dirs: string[];
  /** Dockerfile lines after `COPY rootfs/ /` (labels, user, entrypoint). */
  dockerfileTail: string[];
}

/** Builds `image` on `port`'s engine; the caller checks first whether the tag is there. */
export async function buildNodeImage(
  port: DockerPort,
  image: NodeImage,
  onOutput: (line: string) => void = () => undefined,
): Promise<void> {
  const context = await fs.mkdtemp(path.join(os.tmpdir(), 'agentctl-node-image-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const copy = async (from: string, to: string) => {
      await fs.mkdir(path.dirname(path.join(rootfs, to)), { recursive: true });
      // Follow symlinks (libc.so.6 -> libc-2.36.so): the image gets the file under the name asked for.
      await fs.copyFile(await fs.realpath(from), path.join(rootfs, to));
    };
    await copy(process.execPath, IMAGE_NODE);
    await fs.chmod(path.join(rootfs, IMAGE_NODE), 0o755);
    for (const lib of sharedLibraries(process.execPath)) await copy(lib, lib);
    await copy(image.program, image.programTarget);
    for (const dir of image.dirs) await fs.mkdir(path.join(rootfs, dir), { recursive: true });
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      ['FROM scratch', 'COPY rootfs/ /', ...image.dockerfileTail, ''].join('\n'),
    );
    await port.buildImage({ image: image.tag, context, dockerfile: 'Dockerfile', args: {} }, onOutput);
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
}
