/** agentctl build, and the builds apply runs before it plans: each declared image, one at a time. */
import type { DockerPort } from '../docker/port.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BaseImageUnavailableError, toAgentctlError } from '../errors.js';
import type { ImageBuild } from '../types.js';
import { type OpContext, portOf } from './context.js';

export interface BuildOptions extends OpContext {
  noCache?: boolean;
  pull?: boolean;
  /** Each line of build output, as it arrives. */
  onOutput?: (image: string, line: string) => void;
  onStart?: (build: ImageBuild) => void;
}

export interface BuildResult {
  image: string;
  ok: boolean;
  imageId?: string;
  error?: string;
  durationMs: number;
}

/**
 * Builds run one after another: a build already uses every core it can get, and interleaved output of
 * two builds would be unreadable. A failed build does not stop the others.
 */
export async function buildImages(builds: ImageBuild[], opts: BuildOptions = {}): Promise<BuildResult[]> {
  const port: DockerPort = portOf(opts);
  const results: BuildResult[] = [];
  for (const b of builds) {
    opts.onStart?.(b);
    const started = performance.now();
    try {
      const imageId = await port.buildImage(
        {
          image: b.image,
          context: b.context,
          dockerfile: b.dockerfile,
          args: b.args,
          noCache: opts.noCache,
          pull: opts.pull,
        },
        (line) => opts.onOutput?.(b.image, line),
      );
      results.push({ image: b.image, ok: true, imageId, durationMs: performance.now() - started });
    } catch (err) {
      results.push({
        image: b.image,
        ok: false,
        error: toAgentctlError(withBaseImageHint(err, b)).message,
        durationMs: performance.now() - started,
      });
    }
  }
  return results;
}

/** The script agent-image/ ships to make its base image without a registry (see its --help). */
export const BOOTSTRAP_SCRIPT = 'bootstrap-base.sh';
const BOOTSTRAP_DEFAULT_TAG = 'debian:trixie-slim';

/**
 * A base image that could not be pulled, from a context that ships a bootstrap script: say to run it,
 * with the path as the user would type it from here.
 */
function withBaseImageHint(err: unknown, b: ImageBuild): unknown {
  if (!(err instanceof BaseImageUnavailableError)) return err;
  const script = path.join(b.context, BOOTSTRAP_SCRIPT);
  if (!existsSync(script)) return err;
  const rel = path.relative(process.cwd(), script);
  const shown =
    rel.startsWith('..') || path.isAbsolute(rel) ? script : rel.includes(path.sep) ? rel : `./${rel}`;
  const tag = err.baseImage === BOOTSTRAP_DEFAULT_TAG ? '' : ` ${err.baseImage}`;
  return new BaseImageUnavailableError(
    err.image,
    err.baseImage,
    err.engineMessage,
    `On a host without a registry, make it with debootstrap (installs what it needs): sudo ${shown}${tag}`,
  );
}
