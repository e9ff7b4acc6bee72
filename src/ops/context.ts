/** What every operation needs: a Docker port (the real engine unless a test passes another). */
import { DockerEngine } from '../docker/engine.js';
import type { DockerPort } from '../docker/port.js';

export interface OpContext {
  port?: DockerPort;
}

let shared: DockerPort | undefined;

/** One engine connection pool per process. */
export function portOf(ctx: OpContext): DockerPort {
  if (ctx.port) return ctx.port;
  shared ??= new DockerEngine();
  return shared;
}
