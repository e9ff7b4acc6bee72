/**
 * One DockerPort and one HostFs per engine of the file. `local` is DOCKER_HOST (or the default socket);
 * another engine is reached at its `host`:
 * - `unix:///path`, or `tcp://` to an address of this host without TLS: a DockerEngine on that address,
 *   and this host's disk (the engine runs here, so it bind-mounts from here).
 * - `ssh://`, TLS, or `tcp://` to another machine: a remote transport, which brings its own port and
 *   its own HostFs (a helper container on that engine, see host-fs.ts). Until one is registered for an
 *   address, that engine is refused with "not supported yet": never driven as if it were local.
 * Each opening is one command's: its port answers info() from memory after the first answer
 * (info-cache.ts), so that the steps of a command that read it ask the engine once.
 */
import { AgentctlError } from '../errors.js';
import { type EngineSpec, LOCAL_ENGINE } from '../types.js';
import { DockerEngine } from './engine.js';
import { type EngineAddress, localHostNames } from './engine-address.js';
import { engineTimeoutMs } from './engine-timeout.js';
import type { HostFs } from './host-fs.js';
import { cacheInfo } from './info-cache.js';
import { localHostFs } from './local-host-fs.js';
import { openRemoteEngine } from './remote-engine.js';
import type { DockerPort } from './port.js';

export interface OpenEngine {
  name: string;
  spec: EngineSpec;
  port: DockerPort;
  /** The filesystem of the engine's host (where its agents' working directories are). */
  host: HostFs;
  /** Its address, for messages (`unix:///run/b.sock`, `DOCKER_HOST`). */
  address: string;
}

/** What a remote transport gives for an engine it can reach; undefined: not an address it handles. */
export type RemoteTransport = (spec: EngineSpec) => { port: DockerPort; host: HostFs } | undefined;

const transports: RemoteTransport[] = [openRemoteEngine];

/** The transports module (ssh, TLS) plugs itself in here. */
export function registerRemoteTransport(transport: RemoteTransport): void {
  transports.push(transport);
}

/** Connection pools by address, shared by every command of the process (as ops/context.ts does). */
const pools = new Map<string, DockerPort>();

export interface OpenOptions {
  /** The `local` engine's port (ops/context.ts portOf: a test's, or DOCKER_HOST's). */
  localPort: DockerPort;
  /** This host's names and addresses (default: read from the OS). */
  hostNames?: ReadonlySet<string>;
}

/** Throws AgentctlError 'engine-unreachable' for an engine that cannot be driven (yet). */
export function openEngine(spec: EngineSpec, opts: OpenOptions): OpenEngine {
  const e = openUncached(spec, opts);
  return { ...e, port: cacheInfo(e.port).port };
}

function openUncached(spec: EngineSpec, opts: OpenOptions): OpenEngine {
  if (spec.name === LOCAL_ENGINE || spec.host === undefined) {
    return { name: spec.name, spec, port: opts.localPort, host: localHostFs, address: 'DOCKER_HOST' };
  }
  const local = spec.tls ? undefined : localAddress(spec.host, opts.hostNames ?? localHostNames());
  if (local) {
    let port = pools.get(spec.host);
    if (!port) {
      port = new DockerEngine(local, engineTimeoutMs(), spec.name);
      pools.set(spec.host, port);
    }
    return { name: spec.name, spec, port, host: localHostFs, address: spec.host };
  }
  for (const transport of transports) {
    const remote = transport(spec);
    if (remote) return { name: spec.name, spec, ...remote, address: spec.host };
  }
  const how = spec.host.startsWith('ssh://') ? 'over ssh' : spec.tls ? 'over TLS' : 'on another machine';
  throw new AgentctlError(
    'engine-unreachable',
    `engine ${spec.name} (${spec.host}): engines reached ${how} are not supported yet; agentctl drives engines on this host (unix:// sockets, tcp:// to a loopback or own address without tls)`,
  );
}

/** An address of an engine on this host, or undefined (config already checked the form). */
export function localAddress(host: string, names: ReadonlySet<string>): EngineAddress | undefined {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(host);
  if (!m?.[1] || !m[2]) return undefined;
  const name = m[1].replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const loopback = /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(name) || name === '::1';
  return loopback || names.has(name) ? { host: name, port: Number(m[2]) } : undefined;
}
