/**
 * `agentctl mcp`: the transports. stdio serves one client (the process that started us) until its
 * input ends. Streamable HTTP serves clients that present the bearer token, on loopback unless told
 * otherwise, checking Host and Origin against the addresses we serve so that a web page cannot reach
 * the server through DNS rebinding. Loaded on demand (its own bundle chunk): the SDK is not small.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { DockerPort } from '../docker/port.js';
import type { AgentsFile } from '../ops/locate-agent.js';
import { AgentctlError } from '../errors.js';
import { AgentBinding } from './binding.js';
import { createMcpServer } from './server.js';

export interface McpServeOptions {
  port: DockerPort;
  agents: string[];
  project?: string;
  /** The agents file, when one was given: its `engines:` place the agents. */
  desired?: AgentsFile;
  /** Serve the agents on this engine of the file only (a stray copy's), not where the file pins them. */
  engine?: string;
  maxOutputBytes: number;
  /** Serve Streamable HTTP here instead of stdio. */
  http?: { host: string; port: number; token: string; allowHosts: string[] };
  /** Called once listening (HTTP): the address actually bound. */
  onListening?: (url: string) => void;
}

export async function serveMcp(opts: McpServeOptions): Promise<void> {
  const binding = await AgentBinding.create(opts);
  try {
    if (opts.http) await serveHttp(binding, opts.http, opts.onListening);
    else await serveStdio(binding);
  } finally {
    await binding.close();
  }
}

async function serveStdio(binding: AgentBinding): Promise<void> {
  const server = createMcpServer(binding, { sessionPrefix: '' });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}

async function serveHttp(
  binding: AgentBinding,
  cfg: NonNullable<McpServeOptions['http']>,
  onListening?: (url: string) => void,
): Promise<void> {
  const token = Buffer.from(cfg.token);
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let clients = 0;
  let allowed = new Set<string>();

  const httpServer = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, `internal error: ${(err as Error).message}`);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a browser that resolved some name to our address still sends that name.
    const host = (req.headers.host ?? '').toLowerCase();
    if (!allowed.has(host)) return reply(res, 403, `forbidden Host header "${host}"`);
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(originHost(origin)))
      return reply(res, 403, `forbidden Origin "${origin}"`);
    const auth = req.headers.authorization ?? '';
    const given = Buffer.from(auth.startsWith('Bearer ') ? auth.slice(7) : '');
    if (given.length !== token.length || !timingSafeEqual(given, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return reply(res, 401, 'a valid bearer token is required (Authorization: Bearer <token>)');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/mcp') return reply(res, 404, 'the MCP endpoint is /mcp');

    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid !== undefined) return reply(res, 404, 'unknown or expired MCP session; initialize again');
      if (req.method !== 'POST' || !isInitializeRequest(body))
        return reply(res, 400, 'no MCP session: send an initialize request first');
      const prefix = `h${++clients}-`;
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, t),
      });
      t.onclose = () => {
        if (t.sessionId) transports.delete(t.sessionId);
        void binding.closeSessions(prefix);
      };
      await createMcpServer(binding, { sessionPrefix: prefix }).connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, body);
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new AgentctlError(
          'usage',
          `mcp: cannot listen on ${cfg.host}:${cfg.port}: ${err.code ?? err.message}`,
        ),
      ),
    );
    httpServer.listen(cfg.port, cfg.host, () => resolve());
  });
  const addr = httpServer.address() as { port: number };
  const hostPart = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  allowed = new Set(
    [hostPart, ...(isLoopback(cfg.host) ? ['localhost', '127.0.0.1', '[::1]'] : []), ...cfg.allowHosts].map(
      (h) => `${h.toLowerCase()}:${addr.port}`,
    ),
  );
  onListening?.(`http://${hostPart}:${addr.port}/mcp`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (const t of transports.values()) await t.close().catch(() => undefined);
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function originHost(origin: string): string {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return '';
  }
}

function reply(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

const MAX_BODY = 16 * 1024 * 1024;

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(undefined);
      }
    });
    req.on('error', reject);
  });
}
