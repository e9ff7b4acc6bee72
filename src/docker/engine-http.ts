/**
 * A minimal Engine API client for plain JSON request/response calls over the engine's socket.
 *
 * Why not dockerode for these: loading dockerode (and its ssh2/grpc dependencies) costs ~0.25 s of CPU
 * on a small machine, more than half of the budget for a whole no-op `apply`. The JSON calls on the hot
 * path are trivial HTTP, so they go through here; dockerode is kept for streaming endpoints and loaded
 * lazily. Used by src/docker/engine.ts only.
 */
import http from 'node:http';

export interface EngineAddress {
  socketPath?: string;
  host?: string;
  port?: number;
}

export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** DOCKER_HOST (unix:// or tcp://) or the default socket. TLS hosts return undefined: see DockerEngine. */
export function engineAddress(env: NodeJS.ProcessEnv = process.env): EngineAddress | undefined {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://') && !env.DOCKER_TLS_VERIFY && !env.DOCKER_CERT_PATH) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  return undefined;
}

export class EngineHttp {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly address: EngineAddress) {}

  /** JSON in, JSON (or nothing) out. Non-2xx answers throw EngineHttpError with the engine's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const raw = await this.raw(method, path, body);
    return (raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined) as T;
  }

  raw(method: string, path: string, body?: unknown): Promise<Buffer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...this.address,
          agent: this.agent,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const data = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(data);
            reject(new EngineHttpError(status, engineMessage(data) || `HTTP ${status}`));
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function engineMessage(data: Buffer): string {
  try {
    return String((JSON.parse(data.toString('utf8')) as { message?: string }).message ?? '');
  } catch {
    return data.toString('utf8').trim();
  }
}
