/**
 * A minimal Engine API client for plain JSON request/response calls over the engine's socket.
 *
 * Why not dockerode for these: loading dockerode (and its ssh2/grpc dependencies) costs ~0.25 s of CPU
 * on a small machine, more than half of the budget for a whole no-op `apply`. The JSON calls on the hot
 * path are trivial HTTP, so they go through here; dockerode is kept for streaming endpoints and loaded
 * lazily. Used by src/docker/engine.ts only.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { EngineAddress } from './engine-address.js';
import { type EngineConnection, openEngineConnection } from './engine-connection.js';

/**
 * The engine did not answer in time (a hung or stopped dockerd). Thrown instead of waiting forever, so
 * that every command fails with a message and releases what it holds (the project lock).
 */
export class EngineTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly address: string,
  ) {
    super(`no answer within ${timeoutMs / 1000} s`);
  }
}

/** A call's deadline beyond the default: longer for calls that wait by design, or none at all. */
export interface Deadline {
  /** Added to the default (a stop's grace period). */
  extraMs?: number;
  /** Calls that wait for something by design (a container to exit). */
  none?: boolean;
}

export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class EngineHttp {
  /** The transport (unix, tcp, TLS or ssh): see engine-connection.ts. */
  readonly connection: EngineConnection;

  /**
   * `timeoutMs`: the deadline of a call (0 = none). A JSON call must be answered in full within it; a
   * streamed answer (open) must start within it, and is then read for as long as it lasts. `name`: the
   * engine's name in agents.yaml, for messages.
   */
  constructor(
    address: EngineAddress,
    readonly timeoutMs = 0,
    name?: string,
  ) {
    this.connection = openEngineConnection(address, name);
  }

  /** The engine, as a user would name it in DOCKER_HOST. */
  describeAddress(): string {
    return this.connection.address;
  }

  /** JSON in, JSON (or nothing) out. Non-2xx answers throw EngineHttpError with the engine's message. */
  async json<T>(method: string, path: string, body?: unknown, deadline: Deadline = {}): Promise<T> {
    const raw = await this.raw(method, path, body, deadline);
    return (raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined) as T;
  }

  raw(method: string, path: string, body?: unknown, deadline: Deadline = {}): Promise<Buffer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = this.connection.request(
        {
          ...this.connection.options(true),
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(timer);
            const data = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(data);
            reject(new EngineHttpError(status, engineMessage(data) || `HTTP ${status}`));
          });
        },
      );
      const timer = this.deadline(req, reject, deadline);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(this.connection.explain(err) as Error);
      });
      req.end(payload);
    });
  }

  /**
   * Past the deadline the request is destroyed (its pooled connection too: a hung engine's late answer
   * must not be read by the next call) and the call rejects with EngineTimeoutError.
   */
  private deadline(
    req: http.ClientRequest,
    reject: (err: Error) => void,
    deadline: Deadline,
  ): NodeJS.Timeout | undefined {
    if (this.timeoutMs <= 0 || deadline.none) return undefined;
    const ms = this.timeoutMs + (deadline.extraMs ?? 0);
    const timer = setTimeout(() => {
      const err = new EngineTimeoutError(ms, this.describeAddress());
      reject(err);
      req.destroy(err);
    }, ms);
    return timer;
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
      const req = this.connection.request(
        {
          ...this.connection.options(!opts.ownConnection),
          method,
          path,
          headers: opts.headers ?? {},
          signal: opts.signal,
        },
        (res) => {
          clearTimeout(timer);
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
      // An upload (a body) may take as long as its source: only answers without one have a deadline.
      const timer = opts.body ? undefined : this.deadline(req, reject, {});
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(this.connection.explain(err) as Error);
      });
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
      const req = this.connection.request(
        { ...this.connection.options(true), method, path, headers, signal: opts.signal },
        (res) => {
          clearTimeout(timer);
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
      // The answer must start in time; the command then runs for as long as it runs.
      const timer = this.deadline(req, reject, {});
      req.on('upgrade', (_res, socket, head) => {
        clearTimeout(timer);
        // Bytes that arrived with the 101 answer belong to the stream.
        if (head.length > 0) socket.unshift(head);
        opts.signal?.addEventListener('abort', () => socket.destroy(), { once: true });
        resolve({ output: socket, input: socket });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(this.connection.explain(err) as Error);
      });
      req.end(payload);
    });
  }

  close(): void {
    this.connection.close();
  }
}

function engineMessage(data: Buffer): string {
  try {
    return String((JSON.parse(data.toString('utf8')) as { message?: string }).message ?? '');
  } catch {
    return data.toString('utf8').trim();
  }
}
