/**
 * DOCKER_HOST -> where the engine listens, or a clear refusal.
 *
 * agentctl bind-mounts each agent's working directory from this host's disk (and creates, chowns and
 * checks it here), so it may only drive an engine that runs on this host: an engine elsewhere would
 * mount a directory of the same name on ITS disk, silently not the one agentctl prepared. So an ssh://
 * engine, or a tcp:// one whose address is not one of this host's, is refused with that reason; TLS is
 * refused as what it is (not supported yet), and anything unparseable says what a valid value looks like.
 * Pure apart from the default arguments (this host's addresses and name), so it is tested table-driven.
 */
import os from 'node:os';

export interface EngineAddress {
  socketPath?: string;
  host?: string;
  port?: number;
}

export type EngineAddressResult =
  | { ok: true; address: EngineAddress }
  /** `kind`: `usage` for a value that is not an address at all, `unsupported` for one we cannot drive. */
  | { ok: false; kind: 'usage' | 'unsupported'; message: string };

export const DEFAULT_SOCKET = '/var/run/docker.sock';

const EXPECTED =
  'expected unix:///path/to/docker.sock or tcp://HOST:PORT of an engine on this host (unset DOCKER_HOST to use /var/run/docker.sock)';

const WHY_LOCAL =
  "agentctl bind-mounts each agent's working directory from this host's disk, so it drives only an engine running on this host";

/** This host's own names and interface addresses: an engine there shares our disk. */
export function localHostNames(): Set<string> {
  const names = new Set(['localhost', os.hostname().toLowerCase()]);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) names.add(a.address.toLowerCase());
  }
  return names;
}

export function parseDockerHost(
  env: NodeJS.ProcessEnv = process.env,
  local: ReadonlySet<string> = localHostNames(),
): EngineAddressResult {
  const raw = env.DOCKER_HOST;
  if (raw === undefined || raw === '') return { ok: true, address: { socketPath: DEFAULT_SOCKET } };
  const shown = `DOCKER_HOST=${raw}`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return usage(`${shown} is not an engine address: ${EXPECTED}`);

  if (scheme === 'unix') {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      return usage(`${shown} is not an engine address: a unix socket path must be absolute; ${EXPECTED}`);
    }
    return { ok: true, address: { socketPath } };
  }

  if (scheme === 'ssh') {
    return unsupported(
      `${shown} is an engine on another machine, reached over ssh; ${WHY_LOCAL}. Run agentctl on that machine, or point DOCKER_HOST at an engine here (unix:// or tcp://127.0.0.1:PORT)`,
    );
  }

  const tls = scheme === 'https' || Boolean(env.DOCKER_TLS_VERIFY) || Boolean(env.DOCKER_CERT_PATH);
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') {
    return unsupported(`${shown}: the ${scheme}:// scheme is not supported; ${EXPECTED}`);
  }

  let url: URL;
  try {
    url = new URL(raw.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    return usage(`${shown} is not an engine address: ${EXPECTED}`);
  }
  if (url.hostname === '') return usage(`${shown} is not an engine address: no host; ${EXPECTED}`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.username) {
    return usage(
      `${shown}: a user, path or query in the address is not supported; give tcp://HOST:PORT only`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (!isLocal(host, local)) {
    return unsupported(
      `${shown} is an engine on another machine (${host} is not an address of this host); ${WHY_LOCAL}. Run agentctl on that machine, or point DOCKER_HOST at an engine here (unix:// or tcp://127.0.0.1:PORT)`,
    );
  }
  if (tls) {
    const why =
      scheme === 'https' ? 'https://' : env.DOCKER_TLS_VERIFY ? 'DOCKER_TLS_VERIFY' : 'DOCKER_CERT_PATH';
    return unsupported(
      `${shown} with ${why} asks for TLS to the engine, which agentctl does not speak yet; use the engine's unix socket (unix:///var/run/docker.sock) or a plain tcp:// listener on this host`,
    );
  }
  return { ok: true, address: { host, port: Number(url.port || 2375) } };
}

function isLocal(host: string, local: ReadonlySet<string>): boolean {
  // The whole loopback range, as the kernel routes it; ::ffff:127.x is the same in IPv6 clothing.
  if (/^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host) || host === '::1') return true;
  return local.has(host);
}

function usage(message: string): EngineAddressResult {
  return { ok: false, kind: 'usage', message };
}

function unsupported(message: string): EngineAddressResult {
  return { ok: false, kind: 'unsupported', message };
}
