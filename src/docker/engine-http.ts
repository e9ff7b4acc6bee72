/**
 * A minimal Engine API client for plain JSON request/response calls over the engine's socket.
 *
 * Why not dockerode for these: loading dockerode (and its ssh2/grpc dependencies) costs ~0.25 s of CPU
 * on a small machine, more than half of the budget for a whole no-op `apply`. The JSON calls on the hot
 * path are trivial HTTP, so they go through here; dockerode is kept for streaming endpoints and loaded
 * lazily. Used by src/docker/engine.ts only.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineAddress } from './engine-address.js';

export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class EngineHttp {
  // `servername: ''` skips the agent's guess at a TLS server name for each new connection, whose first
  // use compiles Node's IPv6 regexp: ~6 ms of every CLI run, for a name plain HTTP never uses.
  //
  // No socket limit: a running exec holds its connection until the command ends, so with a limit, N
  // long commands would leave the calls that end them (the timeout's kill exec) queued forever. Callers
  // that fan out bound themselves (mapLimit).
  private readonly agent = new http.Agent({
    keepAlive: true,
    ...({ servername: '' } as http.AgentOptions),
  });

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

  /**
   * For endpoints whose answer is a stream but not a hijacked connection (logs, stats, archives):
   * resolves with the response as soon as its status is known, so the caller reads it as it arrives. A
   * non-2xx answer is read whole and thrown as EngineHttpError. A stream `body` is sent chunked.
   * Aborting `signal` ends the request and the response. `ownConnection` keeps a long-lived stream
   * (`logs --follow`) from holding a pooled connection.
   */
  open(
    method: string,
    path: string,
    opts: {
      body?: NodeJS.ReadableStream;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      ownConnection?: boolean;
    } = {},
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...this.address,
          agent: opts.ownConnection ? false : this.agent,
          method,
          path,
          headers: opts.headers ?? {},
          signal: opts.signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(res);
          // The engine may answer before it has read the whole body (a refused upload): stop sending.
          opts.body?.unpipe(req);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            reject(new EngineHttpError(status, engineMessage(Buffer.concat(chunks)) || `HTTP ${status}`)),
          );
        },
      );
      req.on('error', reject);
      if (!opts.body) return req.end();
      opts.body.on('error', (err: Error) => {
        req.destroy(err);
        reject(err);
      });
      opts.body.pipe(req);
    });
  }

  /**
   * Exec start: the engine answers 200 and streams the output until the process ends. Asked to
   * `upgrade`, it switches protocols (101) and hands over the raw connection instead, which is the only
   * way to also write to the process's stdin: `input` is then that connection (end it to send EOF).
   * A non-2xx answer is thrown as EngineHttpError. Aborting `signal` closes the connection.
   */
  hijack(
    method: string,
    path: string,
    body: unknown,
    opts: { upgrade: boolean; signal?: AbortSignal },
  ): Promise<{ output: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown }; input?: Duplex }> {
    const payload = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': payload.length,
    };
    if (opts.upgrade) Object.assign(headers, { connection: 'Upgrade', upgrade: 'tcp' });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { ...this.address, agent: this.agent, method, path, headers, signal: opts.signal },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve({ output: res });
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            reject(new EngineHttpError(status, engineMessage(Buffer.concat(chunks)) || `HTTP ${status}`)),
          );
        },
      );
      req.on('upgrade', (_res, socket, head) => {
        // Bytes that arrived with the 101 answer belong to the stream.
        if (head.length > 0) socket.unshift(head);
        opts.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
        resolve({ output: socket, input: socket });
      });
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
