/**
 * The egress gateway: a small HTTP proxy (plain HTTP and HTTPS CONNECT) that runs in its own container,
 * attached to the project's internal egress network (where agents with a policy live and have no other
 * route) and to an outbound network. It is bundled on its own (scripts/bundle-cli.mjs) and run by the
 * host's own node binary in a FROM-scratch image, so it needs no registry and nothing but Node's
 * built-ins.
 *
 * Agents are told apart by source address: agentctl gives each policy agent a fixed address on the
 * internal network and writes `address -> { agent, allow, deny }` to the policy file, which is
 * bind-mounted read-only and re-read whenever it changes (polled every 200 ms as well, since inotify on a
 * bind mount can miss a rename). Every decision is one JSON line on stdout (the container's log).
 */
import { readFileSync, statSync, watch } from 'node:fs';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import { compilePolicy, type CompiledPolicy, decide, type Decision } from '../rules.js';

const POLICY_FILE = process.env.AGENTCTL_EGRESS_POLICY ?? '/policy/policy.json';
const PORT = Number(process.env.AGENTCTL_EGRESS_PORT ?? 3128);
const CONNECT_TIMEOUT_MS = 10_000;

interface PolicyFile {
  agents: Record<string, { agent: string; allow: string[]; deny: string[] }>;
  hostAddresses: string[];
}

interface Loaded {
  byAddress: Map<string, { agent: string; policy: CompiledPolicy }>;
  hostAddresses: Set<string>;
  text: string;
}

let current: Loaded = { byAddress: new Map(), hostAddresses: new Set(), text: '' };

function load(): void {
  let text: string;
  try {
    text = readFileSync(POLICY_FILE, 'utf8');
  } catch (err) {
    // No policy file: nobody is let out (fail closed), and this is said once per change.
    if (current.text !== '(missing)')
      log({ event: 'policy', error: `cannot read ${POLICY_FILE}: ${(err as Error).message}` });
    current = { byAddress: new Map(), hostAddresses: new Set(), text: '(missing)' };
    return;
  }
  if (text === current.text) return;
  try {
    const data = JSON.parse(text) as PolicyFile;
    const byAddress = new Map(
      Object.entries(data.agents).map(([address, a]) => [
        address,
        { agent: a.agent, policy: compilePolicy(a) },
      ]),
    );
    current = { byAddress, hostAddresses: new Set(data.hostAddresses), text };
    log({ event: 'policy', agents: [...byAddress.values()].map((a) => a.agent).sort() });
  } catch (err) {
    // A half-written file cannot happen (agentctl renames a complete one into place); keep the last one.
    log({ event: 'policy', error: `cannot parse ${POLICY_FILE}: ${(err as Error).message}` });
  }
}

function log(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

async function resolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, family: 4 })).map((a) => a.address);
}

function sourceOf(socket: net.Socket): string {
  return (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

async function judge(
  source: string,
  host: string,
  port: number,
  method: string,
): Promise<{ agent: string; d: Decision }> {
  const entry = current.byAddress.get(source);
  const agent = entry?.agent ?? `(unknown ${source})`;
  const d: Decision = entry
    ? await decide(entry.policy, host, port, resolve, current.hostAddresses)
    : {
        allowed: false,
        rule: '(no policy for this address)',
        reason: `${source} is not an agent with an egress policy`,
      };
  log({
    event: 'decision',
    agent,
    source,
    method,
    host,
    port,
    decision: d.allowed ? 'allowed' : 'denied',
    rule: d.rule,
    ...(d.allowed ? { address: d.address } : { reason: d.reason }),
  });
  return { agent, d };
}

/** Written for a model to read: what was refused, by which rule, and that there is no way around it. */
function denialBody(
  agent: string,
  host: string,
  port: number,
  d: Extract<Decision, { allowed: false }>,
): string {
  return [
    `agentctl egress gateway: ${host}:${port} is blocked for agent ${agent}.`,
    `Rule: ${d.rule} (${d.reason}).`,
    'This agent can only reach the hosts its egress policy allows, through this proxy; every other route',
    '(direct connections, other ports, other addresses) is blocked too. Ask the operator to change the',
    "agent's egress policy in agents.yaml if this host is needed.",
    '',
  ].join('\n');
}

function hostPort(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(authority);
  if (!m?.[1]) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

const server = http.createServer((req, res) => {
  void (async () => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('agentctl egress gateway: send requests through this proxy (absolute URL or CONNECT)\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(`agentctl egress gateway: ${url.protocol} is not proxied; use CONNECT for TLS\n`);
      return;
    }
    const port = url.port ? Number(url.port) : 80;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const { agent, d } = await judge(sourceOf(req.socket), host, port, req.method ?? 'GET');
    if (!d.allowed) {
      res
        .writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'x-agentctl-egress-rule': d.rule })
        .end(denialBody(agent, host, port, d));
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    // Connect to the address that was checked, not to a name that could resolve differently now.
    const upstream = http.request(
      {
        host: d.address,
        port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        timeout: CONNECT_TIMEOUT_MS,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('error', (err) => {
      if (!res.headersSent)
        res
          .writeHead(502, { 'content-type': 'text/plain' })
          .end(`agentctl egress gateway: ${host}:${port}: ${err.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  })();
});

server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  void (async () => {
    const target = hostPort(req.url ?? '', 443);
    if (!target) {
      client.end(
        'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nagentctl egress gateway: CONNECT needs host:port\n',
      );
      return;
    }
    const { agent, d } = await judge(sourceOf(client), target.host, target.port, 'CONNECT');
    if (!d.allowed) {
      const body = denialBody(agent, target.host, target.port, d);
      client.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\nx-agentctl-egress-rule: ${d.rule}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const upstream = net.connect({ host: d.address, port: target.port, timeout: CONNECT_TIMEOUT_MS });
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('connect timed out')));
    upstream.on('error', (err) => {
      if (!client.destroyed)
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\nagentctl egress gateway: ${err.message}\n`,
        );
    });
    client.on('error', () => upstream.destroy());
  })();
});

server.on('clientError', (_err, socket) => socket.destroy());
// A client that half-closes after its request (`printf ... | nc`) still gets its answer.
(server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

load();
try {
  // The directory, not the file: agentctl replaces the file by renaming a new one over it.
  watch(POLICY_FILE.replace(/\/[^/]+$/, ''), () => load());
} catch {
  // Polling below still picks changes up.
}
let lastStamp = '';
setInterval(() => {
  let stamp = 'missing';
  try {
    const st = statSync(POLICY_FILE);
    stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    // load() reports it
  }
  if (stamp !== lastStamp) {
    lastStamp = stamp;
    load();
  }
}, 200).unref();
server.listen(PORT, '0.0.0.0', () => log({ event: 'listening', port: PORT }));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
