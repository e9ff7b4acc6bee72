/**
 * Engine addresses -> where the engine listens, or a clear refusal: DOCKER_HOST (and the docker CLI's
 * TLS variables), and the `host:` of an engine declared in agents.yaml.
 *
 * agentctl bind-mounts each agent's working directory from the disk of the engine's host (and creates,
 * chowns and checks it there), so an engine on another machine is driven only when the user gave a
 * runtimeDir on that machine; without one, DOCKER_HOST=ssh:// or a remote tcp:// is refused with that
 * reason and how to declare it. Plain tcp:// to another machine is always refused: it is unauthenticated
 * both ways. TLS is always verified. Anything unparseable says what a valid value looks like. Pure apart
 * from the default arguments (this host's addresses and name), so it is tested table-driven.
 */
import os from 'node:os';
import path from 'node:path';
import { type SshConfigLookup, userSshConfig } from './ssh-config.js';

/** TLS client files (PEM paths): the CA that signed the engine's certificate, and our certificate and key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * Where an engine listens. `socketPath`: a unix socket here. `host`/`port`: plain tcp to an engine here,
 * TLS (`tls`) to one here or elsewhere, or (with `ssh`) the ssh server the engine is reached through.
 */
export interface EngineAddress {
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: TlsFiles;
  ssh?: { user?: string; identityFile?: string };
}

export type EngineAddressResult =
  | { ok: true; address: EngineAddress }
  /** `kind`: `usage` for a value that is not an address at all, `unsupported` for one we cannot drive. */
  | { ok: false; kind: 'usage' | 'unsupported'; message: string };

export const DEFAULT_SOCKET = '/var/run/docker.sock';

const EXPECTED =
  'expected unix:///path/to/docker.sock or tcp://HOST:PORT of an engine on this host (unset DOCKER_HOST to use /var/run/docker.sock)';

const EXPECTED_ENGINE =
  'expected unix:///path/to/docker.sock, tcp://HOST:PORT (with tls: for another machine) or ssh://[USER@]HOST[:PORT]';

const WHY_LOCAL =
  "agentctl bind-mounts each agent's working directory from the disk of the engine's host, so an engine on another machine needs a runtimeDir there";

const HOW_REMOTE =
  'declare it in agents.yaml under engines: with its host and a runtimeDir (a directory on that machine), see the README "Engines on other machines"';

/** The engine as a user would write it: `unix:///x`, `tcp://h:p`, `ssh://u@h:p`. */
export function describeEngineAddress(a: EngineAddress): string {
  if (a.socketPath) return `unix://${a.socketPath}`;
  const host = a.host?.includes(':') ? `[${a.host}]` : a.host;
  if (a.ssh) return `ssh://${a.ssh.user ? `${a.ssh.user}@` : ''}${host}${a.port === 22 ? '' : `:${a.port}`}`;
  return `tcp://${host}:${a.port}`;
}

/** This host's own names and interface addresses: an engine there shares our disk. */
export function localHostNames(): Set<string> {
  const names = new Set(['localhost', os.hostname().toLowerCase()]);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) names.add(a.address.toLowerCase());
  }
  return names;
}

/** Whether the engine runs on another machine (its working directories are on that machine's disk). */
export function isRemoteAddress(a: EngineAddress, local?: ReadonlySet<string>): boolean {
  if (a.socketPath) return false;
  if (a.ssh) return true;
  return !isLocal(a.host ?? '', local);
}

type Parsed =
  | { scheme: 'unix'; socketPath: string }
  /** `port` only when the address gives one: ~/.ssh/config may give it otherwise. */
  | { scheme: 'ssh'; host: string; port?: number; user?: string }
  | { scheme: 'tcp' | 'http' | 'https'; host: string; port: number };

/** The address syntax alone: scheme, host, port (and ssh's user); nothing decided yet. */
function parseUrl(raw: string, shown: string, expected: string): Parsed | EngineAddressResult {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return usage(`${shown} is not an engine address: ${expected}`);
  if (scheme === 'unix') {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      return usage(`${shown} is not an engine address: a unix socket path must be absolute; ${expected}`);
    }
    return { scheme, socketPath };
  }
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https' && scheme !== 'ssh') {
    return unsupported(`${shown}: the ${scheme}:// scheme is not supported; ${expected}`);
  }
  let url: URL;
  try {
    url = new URL(raw.replace(/^[a-z]+:/i, 'http:'));
  } catch {
    return usage(`${shown} is not an engine address: ${expected}`);
  }
  if (url.hostname === '') return usage(`${shown} is not an engine address: no host; ${expected}`);
  const user = decodeURIComponent(url.username);
  if (
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search ||
    url.password ||
    (user && scheme !== 'ssh')
  ) {
    return usage(
      scheme === 'ssh'
        ? `${shown}: a password, path or query in the address is not supported; give ssh://[USER@]HOST[:PORT] only`
        : `${shown}: a user, path or query in the address is not supported; give tcp://HOST:PORT only`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (scheme === 'ssh') {
    return { scheme, host, ...(url.port ? { port: Number(url.port) } : {}), ...(user ? { user } : {}) };
  }
  return { scheme, host, port: Number(url.port || (scheme === 'https' ? 2376 : 2375)) };
}

function isResult(p: Parsed | EngineAddressResult): p is EngineAddressResult {
  return 'ok' in p;
}

/**
 * DOCKER_HOST (and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, as the docker CLI reads them). An engine on
 * another machine is refused here, saying how to declare it: the file's top-level runtimeDir is where
 * agentctl keeps its own state on THIS machine (lock, keys), so it cannot also name a directory there.
 */
export function parseDockerHost(
  env: NodeJS.ProcessEnv = process.env,
  local?: ReadonlySet<string>,
): EngineAddressResult {
  const raw = env.DOCKER_HOST;
  if (raw === undefined || raw === '') return { ok: true, address: { socketPath: DEFAULT_SOCKET } };
  const shown = `DOCKER_HOST=${raw}`;
  const p = parseUrl(raw, shown, EXPECTED);
  if (isResult(p)) return p;
  if (p.scheme === 'unix') return { ok: true, address: { socketPath: p.socketPath } };

  if (p.scheme === 'ssh') {
    return unsupported(
      `${shown} is an engine on another machine, reached over ssh; ${WHY_LOCAL}: ${HOW_REMOTE}`,
    );
  }

  const remote = !isLocal(p.host, local);
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  if (!verify && env.DOCKER_CERT_PATH && p.scheme !== 'https') {
    return unsupported(
      `${shown} with DOCKER_CERT_PATH but no DOCKER_TLS_VERIFY means TLS without checking the engine's certificate, which agentctl never does; set DOCKER_TLS_VERIFY=1 as well`,
    );
  }
  if (remote && !verify && p.scheme !== 'https') {
    return unsupported(
      `${shown} is an engine on another machine (${p.host} is not an address of this host) over plain tcp, which anyone on the network can drive and which cannot tell agentctl it reached the right engine; use TLS (DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH) or ssh://, and ${WHY_LOCAL}: ${HOW_REMOTE}`,
    );
  }
  if (verify || p.scheme === 'https') {
    if (remote) {
      return unsupported(
        `${shown} is an engine on another machine (${p.host} is not an address of this host); ${WHY_LOCAL}: ${HOW_REMOTE}`,
      );
    }
    const dir = env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
    const tls = {
      ca: path.join(dir, 'ca.pem'),
      cert: path.join(dir, 'cert.pem'),
      key: path.join(dir, 'key.pem'),
    };
    return { ok: true, address: { host: p.host, port: p.port, tls } };
  }
  return { ok: true, address: { host: p.host, port: p.port } };
}

/**
 * The `host:` of an engine declared in agents.yaml (which has a runtimeDir on that machine), with its
 * `tls:` files and ssh `identityFile` (paths already resolved by the config loader). `what` names the
 * field in messages.
 */
export function parseEngineHost(
  raw: string,
  extra: { tls?: TlsFiles; identityFile?: string } = {},
  what = 'host',
  local?: ReadonlySet<string>,
  sshConfig: SshConfigLookup = userSshConfig,
): EngineAddressResult {
  const shown = `${what}: ${raw}`;
  const p = parseUrl(raw, shown, EXPECTED_ENGINE);
  if (isResult(p)) return p;
  if (extra.tls && p.scheme !== 'tcp' && p.scheme !== 'https') {
    return usage(`${shown}: tls: applies to a tcp:// engine only`);
  }
  if (extra.identityFile !== undefined && p.scheme !== 'ssh') {
    return usage(`${shown}: identityFile applies to an ssh:// engine only`);
  }
  if (p.scheme === 'unix') return { ok: true, address: { socketPath: p.socketPath } };
  if (p.scheme === 'ssh') return sshAddress(p, shown, extra.identityFile, sshConfig);
  if (extra.tls) return { ok: true, address: { host: p.host, port: p.port, tls: extra.tls } };
  if (p.scheme === 'https') return usage(`${shown}: https:// needs tls: {ca, cert, key}`);
  if (!isLocal(p.host, local)) {
    return unsupported(
      `${shown} is plain tcp to another machine (${p.host} is not an address of this host): anyone on the network could drive that engine, and agentctl could not tell it reached the right one; give tls: {ca, cert, key} (the engine listening with --tlsverify) or use ssh://`,
    );
  }
  return { ok: true, address: { host: p.host, port: p.port } };
}

/**
 * An ssh engine's address with what ~/.ssh/config says for its host filled in (HostName, User, Port,
 * IdentityFile), the address's and agents.yaml's own values first, as `ssh` gives its command line
 * precedence over the file.
 */
function sshAddress(
  p: { host: string; port?: number; user?: string },
  shown: string,
  identityFile: string | undefined,
  lookup: SshConfigLookup,
): EngineAddressResult {
  const c = lookup(p.host);
  if (c?.unsupported !== undefined) {
    return unsupported(
      `${shown}: ${c.file} gives host ${p.host} "${c.unsupported}", which agentctl's ssh client does not implement; it would not reach the machine \`ssh ${p.host}\` reaches, so it is refused: give the engine's address directly (ssh://USER@HOSTNAME:PORT), or a Host entry without it`,
    );
  }
  const ssh: { user?: string; identityFile?: string } = {};
  const user = p.user || c?.user;
  if (user) ssh.user = user;
  const key = identityFile ?? c?.identityFile;
  if (key !== undefined) ssh.identityFile = key;
  return { ok: true, address: { host: c?.hostName ?? p.host, port: p.port ?? c?.port ?? 22, ssh } };
}

/**
 * `local` defaults to this host's names, read only here: listing the interfaces costs about 0.1 s on a
 * busy host, and a unix socket (every run's usual engine) or a loopback address never needs it.
 */
function isLocal(host: string, local?: ReadonlySet<string>): boolean {
  // The whole loopback range, as the kernel routes it; ::ffff:127.x is the same in IPv6 clothing.
  if (/^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host) || host === '::1') return true;
  return (local ?? localHostNames()).has(host);
}

function usage(message: string): EngineAddressResult {
  return { ok: false, kind: 'usage', message };
}

function unsupported(message: string): EngineAddressResult {
  return { ok: false, kind: 'unsupported', message };
}
