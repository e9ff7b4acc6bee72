/**
 * The remote HostFs helper's image, built on the remote engine with no registry, as the egress gateway's
 * is (src/egress/gateway-image.ts): FROM scratch, this machine's node binary and the libraries ldd names,
 * and dist/host-fs-helper.mjs. Its tag is a digest of those, so a new node or a new helper is a new
 * image. It runs this machine's binary, so the engine's host must have the same CPU architecture.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentctlError } from '../errors.js';
import { sharedLibraries } from '../egress/gateway-image.js';
import type { DockerPort } from './port.js';

export const HELPER_IMAGE_REPO = 'agentctl-host-fs-helper';
export const HELPER_SCRIPT = '/helper/host-fs-helper.mjs';
export const HELPER_NODE = '/usr/local/bin/node';
const SCRIPT = 'host-fs-helper.mjs';

function helperScriptPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, SCRIPT), path.join(dir, 'dist', SCRIPT)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new AgentctlError(
    'preflight',
    `the remote HostFs helper program (${SCRIPT}) is missing: run npm run build`,
  );
}

let cachedTag: string | undefined;

export function helperImageTag(): string {
  if (cachedTag) return cachedTag;
  const node = statSync(process.execPath);
  const digest = createHash('sha256')
    .update(process.version)
    .update(`${node.size}:${node.mtimeMs}`)
    .update(readFileSync(helperScriptPath()))
    .digest('hex')
    .slice(0, 16);
  cachedTag = `${HELPER_IMAGE_REPO}:${digest}`;
  return cachedTag;
}

/** Docker's names for Node's architectures. */
const DOCKER_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** Builds the image on `port`'s engine unless it is there; resolves to its tag. */
export async function ensureHelperImage(port: DockerPort, engine: string): Promise<string> {
  const tag = helperImageTag();
  if (await port.inspectImage(tag)) return tag;
  const arch = (await port.info()).architecture;
  const ours = DOCKER_ARCH[process.arch] ?? process.arch;
  if (arch && arch !== ours) {
    throw new AgentctlError(
      'preflight',
      `engine ${engine}: its host is ${arch}, this machine ${ours}; the helper that manages working directories there runs this machine's node binary, so agentctl cannot manage that engine's working directories from here`,
    );
  }
  const context = await fs.mkdtemp(path.join(os.tmpdir(), 'agentctl-host-fs-helper-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const copy = async (from: string, to: string) => {
      await fs.mkdir(path.dirname(path.join(rootfs, to)), { recursive: true });
      await fs.copyFile(await fs.realpath(from), path.join(rootfs, to));
    };
    await copy(process.execPath, HELPER_NODE);
    await fs.chmod(path.join(rootfs, HELPER_NODE), 0o755);
    for (const lib of sharedLibraries(process.execPath)) await copy(lib, lib);
    await copy(helperScriptPath(), HELPER_SCRIPT);
    await fs.mkdir(path.join(rootfs, 'tmp'), { recursive: true });
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        `LABEL org.opencontainers.image.title="agentctl host-fs helper"`,
        '',
      ].join('\n'),
    );
    await port.buildImage({ image: tag, context, dockerfile: 'Dockerfile', args: {} }, () => undefined);
    return tag;
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
}
