/**
 * The remote HostFs helper's image: dist/host-fs-helper.mjs on this machine's node, FROM scratch, built
 * on the remote engine with no registry (see node-image.ts). It runs this machine's binary, so the
 * engine's host must have the same CPU architecture.
 */
import { AgentctlError } from '../errors.js';
import { bundledProgramPath, buildNodeImage, IMAGE_NODE, nodeImageTag } from './node-image.js';
import type { DockerPort } from './port.js';

export const HELPER_IMAGE_REPO = 'agentctl-host-fs-helper';
export const HELPER_SCRIPT = '/helper/host-fs-helper.mjs';
export const HELPER_NODE = IMAGE_NODE;

function helperProgram(): string {
  return bundledProgramPath('host-fs-helper.mjs', 'the remote HostFs helper program');
}

export function helperImageTag(): string {
  return nodeImageTag(HELPER_IMAGE_REPO, helperProgram());
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
  await buildNodeImage(port, {
    tag,
    program: helperProgram(),
    programTarget: HELPER_SCRIPT,
    dirs: ['tmp'],
    dockerfileTail: [`LABEL org.opencontainers.image.title="agentctl host-fs helper"`],
  });
  return tag;
}
