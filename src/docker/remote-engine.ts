/**
 * The remote transport that src/docker/engines.ts registers: an engine declared with `host: ssh://...`, or a
 * `tcp://` one with `tls:`, on another machine gets a DockerEngine over that transport (see
 * engine-connection.ts) and a RemoteHostFs (a helper container on that engine). Engines on this host
 * are not ours (undefined): engines.ts drives them with this host's disk.
 */
import { AgentctlError } from '../errors.js';
import type { EngineSpec } from '../types.js';
import { DockerEngine } from './engine.js';
import { isRemoteAddress, parseEngineHost } from './engine-address.js';
import { engineTimeoutMs } from './engine-timeout.js';
import type { HostFs } from './host-fs.js';
import { localHostFs } from './local-host-fs.js';
import type { DockerPort } from './port.js';
import { RemoteHostFs } from './remote-host-fs.js';

/** One port (and connection) per engine address per process, as for local engines. */
const opened = new Map<string, { port: DockerPort; host: HostFs }>();

export function openRemoteEngine(spec: EngineSpec): { port: DockerPort; host: HostFs } | undefined {
  if (!spec.host) return undefined;
  const r = parseEngineHost(
    spec.host,
    { tls: spec.tls, identityFile: spec.identityFile },
    `engine ${spec.name}: host`,
  );
  if (!r.ok) throw new AgentctlError(r.kind === 'usage' ? 'usage' : 'engine-unreachable', r.message);
  // A TLS engine on this host still bind-mounts from this disk: driven over TLS, but with local files.
  if (!isRemoteAddress(r.address) && !r.address.tls) return undefined;
  const key = `${spec.name}\n${spec.host}\n${spec.runtimeDir}`;
  let e = opened.get(key);
  if (!e) {
    const port = new DockerEngine(r.address, engineTimeoutMs(), spec.name);
    const host: HostFs = isRemoteAddress(r.address)
      ? new RemoteHostFs(port, spec.name, spec.runtimeDir)
      : localHostFs;
    e = { port, host };
    opened.set(key, e);
  }
  return e;
}
