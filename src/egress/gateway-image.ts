/**
 * The gateway image, built with no registry: FROM scratch, holding the node binary agentctl itself runs
 * on (process.execPath), the shared libraries `ldd` says it needs, and the bundled proxy
 * (dist/egress-gateway.mjs). Its tag is a digest of those, so a new node or a new proxy is a new image
 * (and the planner recreates the gateway). The alternative, building on the debootstrapped Debian base,
 * would need that base to exist first and makes a much larger image.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';

export const GATEWAY_IMAGE_REPO = 'agentctl-egress-gateway';
const SCRIPT = 'egress-gateway.mjs';

/** dist/egress-gateway.mjs of this package, found from wherever this module was loaded. */
export function gatewayScriptPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    for (const candidate of [path.join(dir, SCRIPT), path.join(dir, 'dist', SCRIPT)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new AgentctlError(
    'preflight',
    `the egress gateway program (${SCRIPT}) is missing: run npm run build`,
  );
}

let cachedTag: string | undefined;

/** The tag of the image this agentctl would build (cheap after the first call). */
export function gatewayImageTag(): string {
  if (cachedTag) return cachedTag;
  const node = statSync(process.execPath);
  const digest = createHash('sha256')
    .update(process.version)
    .update(`${node.size}:${node.mtimeMs}`)
    .update(readFileSync(gatewayScriptPath()))
    .digest('hex')
    .slice(0, 16);
  cachedTag = `${GATEWAY_IMAGE_REPO}:${digest}`;
  return cachedTag;
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

/** Builds the image unless it is there already; resolves to its tag. */
export async function ensureGatewayImage(
  port: DockerPort,
  onOutput: (line: string) => void = () => undefined,
): Promise<string> {
  const tag = gatewayImageTag();
  if (await port.inspectImage(tag)) return tag;
  const context = await fs.mkdtemp(path.join(os.tmpdir(), 'agentctl-gateway-'));
  try {
    const rootfs = path.join(context, 'rootfs');
    const copy = async (from: string, to: string) => {
      await fs.mkdir(path.dirname(path.join(rootfs, to)), { recursive: true });
      // Follow symlinks (libc.so.6 -> libc-2.36.so): the image gets the file under the name asked for.
      await fs.copyFile(await fs.realpath(from), path.join(rootfs, to));
    };
    await copy(process.execPath, '/usr/local/bin/node');
    await fs.chmod(path.join(rootfs, 'usr/local/bin/node'), 0o755);
    for (const lib of sharedLibraries(process.execPath)) await copy(lib, lib);
    await copy(gatewayScriptPath(), `/gateway/${SCRIPT}`);
    await fs.mkdir(path.join(rootfs, 'policy'), { recursive: true });
    await fs.mkdir(path.join(rootfs, 'tmp'), { recursive: true });
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        `LABEL org.opencontainers.image.title="agentctl egress gateway" agentctl.egress-gateway-image="${tag}"`,
        'USER 65534:65534',
        `ENTRYPOINT ["/usr/local/bin/node", "/gateway/${SCRIPT}"]`,
        '',
      ].join('\n'),
    );
    await port.buildImage({ image: tag, context, dockerfile: 'Dockerfile', args: {} }, onOutput);
    return tag;
  } finally {
    await fs.rm(context, { recursive: true, force: true });
  }
}
