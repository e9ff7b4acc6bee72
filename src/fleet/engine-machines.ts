/**
 * The machine of each engine of a file (fleet/same-host.ts decides), from its address and the host name
 * its /info gives: the answer each opened engine already had for the same-engine refusal (its port
 * remembers it, docker/info-cache.ts), so no engine is asked again. An engine that cannot be opened, or
 * does not answer, is placed by its address alone.
 */
import type { DockerPort } from '../docker/port.js';
import { type EngineWhere, machinesOf } from './same-host.js';

export async function engineMachines(
  engines: readonly (Omit<EngineWhere, 'hostName'> & { port?: DockerPort })[],
): Promise<Map<string, string>> {
  const hostNames = await Promise.all(
    engines.map((e) =>
      e.port?.info().then(
        (i) => i.hostName,
        () => undefined,
      ),
    ),
  );
  return machinesOf(engines.map((e, i) => ({ name: e.name, spec: e.spec, hostName: hostNames[i] })));
}
