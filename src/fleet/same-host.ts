/**
 * Which engines of a file share a machine, hence a disk. A working directory is a path on its engine's
 * host, and a container of ANY engine on that same host can bind-mount it: the in-use check before
 * data is deleted (down --data, rm --data, cleanup, a migration's target) asks every engine of that
 * host, never only the directory's own engine. Engines on other machines cannot mount it and are not asked.
 *
 * Same machine, by address: both run here (unix sockets, tcp to a loopback or own address, ssh to one of
 * them), or both addresses name the same host (case-insensitive; ssh user and port do not matter), an ssh
 * host being the HostName ~/.ssh/config gives it. And by what the engines say: two engines whose /info
 * gives the same host name are one machine, and one that gives this host's name runs here, however they
 * are addressed (a name and its IP, an /etc/hosts alias). Only ever joining machines is the safe side:
 * two machines taken for one means one more engine asked before a deletion; one machine taken for two
 * means a container that mounts the directory is not seen. An engine that did not answer is placed by
 * its address alone.
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

/** What machinesOf needs of an engine: its address, and the host name its /info gave (if it answered). */
export interface EngineWhere {
  name: string;
  spec: Pick<EngineSpec, 'host' | 'tls' | 'identityFile'>;
  hostName?: string;
}

/**
 * Each engine's machine (engine name -> machine): its address's (machineOf), then every machine with an
 * engine that gives the same host name joined into one, as is a host name of this host with THIS_HOST.
 * A joined machine is called THIS_HOST if it includes this host, else by its first address's machine in
 * sorted order. Pure.
 */
export function machinesOf(
  engines: readonly EngineWhere[],
  names: ReadonlySet<string> = localHostNames(),
  sshConfig: SshConfigLookup = userSshConfig,
): Map<string, string> {
  const byAddress = new Map(engines.map((e) => [e.name, machineOf(e.spec, names, sshConfig)]));
  // Union-find over machines: a machine's parent is the one it was joined into.
  const parent = new Map<string, string>();
  const root = (m: string): string => {
    const p = parent.get(m);
    if (p === undefined || p === m) return m;
    const r = root(p);
    parent.set(m, r);
    return r;
  };
  const join = (x: string, y: string) => {
    const [a, b] = [root(x), root(y)];
    if (a === b) return;
    // THIS_HOST wins, then the first in sorted order: the name does not depend on the engines' order.
    const keep = a === THIS_HOST || (b !== THIS_HOST && a < b) ? a : b;
    parent.set(keep === a ? b : a, keep);
  };
  const byHostName = new Map<string, string>();
  for (const e of engines) {
    const h = e.hostName?.toLowerCase();
    if (!h) continue;
    const m = byAddress.get(e.name)!;
    if (names.has(h)) join(m, THIS_HOST);
    const seen = byHostName.get(h);
    if (seen === undefined) byHostName.set(h, m);
    else join(seen, m);
  }
  return new Map(engines.map((e) => [e.name, root(byAddress.get(e.name)!)]));
}

/** The engines on the same machine as `engine` (itself included), in the given order. */
export function sameHostAs<T extends { name: string }>(
  engine: { name: string },
  all: readonly T[],
  machines: ReadonlyMap<string, string>,
): T[] {
  const m = machines.get(engine.name);
  return all.filter((e) => machines.get(e.name) === m);
}
