/**
 * Two engine names of one file for ONE engine (`local: {}` and `also: {host: unix:///var/run/docker.sock}`,
 * or a socket and a tcp address of the same dockerd) would see each container twice: ps would list it
 * under both, and the plan of one would take the other's agents for strays to move or remove. Such a
 * file is refused before anything is changed, naming both. Each engine says who it is: /info's ID, which
 * with its host name and data root (two dockerds of one host differ; one dockerd at two addresses does not).
 * An engine that does not answer is left to the caller, which reports it as unreachable.
 */
import type { OpenEngine } from '../docker/engines.js';
import { AgentctlError } from '../errors.js';

export async function refuseSameEngine(engines: readonly OpenEngine[]): Promise<void> {
  // One engine is distinct from itself: no /info asked (exec of a file without engines: is the hot path).
  if (engines.length < 2) return;
  const ids = await Promise.all(
    engines.map((e) =>
      e.port.info().then(
        (i) => i.identity,
        () => undefined,
      ),
    ),
  );
  const byId = new Map<string, string[]>();
  ids.forEach((id, i) => {
    if (id) byId.set(id, [...(byId.get(id) ?? []), engines[i]!.name]);
  });
  const same = [...byId.entries()].filter(([, names]) => names.length > 1);
  if (same.length === 0) return;
  const groups = same.map(([identity, names]) => {
    const [id, host, root] = identity.split(' ');
    const shown = names.sort().map((n) => {
      const e = engines.find((x) => x.name === n)!;
      return `${n} (${e.address})`;
    });
    return `${shown.join(' and ')} are the same engine (ID ${id} on ${host}, data root ${root})`;
  });
  throw new AgentctlError(
    'usage',
    `engines ${groups.join('; ')}: each of its containers would be seen twice, and one name's agents taken for strays of the other; declare the engine once, nothing was changed`,
  );
}
