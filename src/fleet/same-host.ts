/**
 * Which engines of a file share a machine, hence a disk. A working directory is a path on its engine's
 * host, and a container of ANY engine on that same host can bind-mount it: the in-use check before
 * data is deleted (down --data, cleanup, a migration's target) asks every engine of that host, never
 * only the directory's own engine. Engines on other machines cannot mount it and are not asked.
 *
 * Same machine: both run here (unix sockets, tcp to a loopback or own address, ssh to one of them), or
 * both addresses name the same host (case-insensitive; ssh user and port do not matter), an ssh host
 * being the HostName ~/.ssh/config gives it. Two names for one machine (a name and its IP) are not
 * recognised otherwise: the README asks for the same name in both.
 */
import { isRemoteAddress, localHostNames, parseEngineHost } from '../docker/engine-address.js';
import { type SshConfigLookup, userSshConfig } from '../docker/ssh-config.js';
import type { EngineSpec } from '../types.js';

/** The key of this machine in machineOf's answers. */
export const THIS_HOST = 'this host';

/** The machine an engine runs on: THIS_HOST, or the host name of its address (lower case). */
export function machineOf(
  spec: Pick<EngineSpec, 'host' | 'tls' | 'identityFile'>,
  names: ReadonlySet<string> = localHostNames(),
  sshConfig: SshConfigLookup = userSshConfig,
): string {
  if (spec.host === undefined) return THIS_HOST; // `local`: DOCKER_HOST, on this host (checked at start)
  const parsed = parseEngineHost(
    spec.host,
    { tls: spec.tls, identityFile: spec.identityFile },
    'host',
    names,
    sshConfig,
  );
  // The config checked the address already; one it cannot parse here is taken as a machine of its own.
  if (!parsed.ok) return spec.host.toLowerCase();
  const a = parsed.address;
  if (!isRemoteAddress(a, names)) return THIS_HOST;
  // ssh to this host's own name still reaches this disk (through the helper container).
  const h = a.host?.toLowerCase();
  if (h !== undefined && (names.has(h) || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h) || h === '::1'))
    return THIS_HOST;
  return (a.host ?? spec.host).toLowerCase();
}

/** The engines on the same machine as `engine` (itself included), in the given order. */
export function sameHostAs<T extends { spec: Pick<EngineSpec, 'host' | 'tls' | 'identityFile'> }>(
  engine: T,
  all: readonly T[],
  names: ReadonlySet<string> = localHostNames(),
): T[] {
  const m = machineOf(engine.spec, names);
  return all.filter((e) => machineOf(e.spec, names) === m);
}
