/**
 * A port whose info() is answered from memory after its first answer. At 1000 agents the engine takes
 * 100-800 ms to answer /info (it counts its containers), and what is read of it (identity, CPUs,
 * memory, runtimes, version) changes only when the engine is restarted or reconfigured. Two scopes use it:
 * - one command: every engine a command opens (docker/engines.ts openEngine) is asked once, however
 *   many steps read it (the same-engine refusal, preflight, the same-machine check);
 * - the watcher's local engine, across its runs: forgotten on its full looks (its start, every resync,
 *   a reconnect to the engine), as its InspectCache is.
 */
import type { DockerPort } from '../docker/port.js';
import type { EngineInfo } from '../types.js';

export interface InfoCache {
  /** The port, its info() answered from memory (every other call passed through). */
  port: DockerPort;
  /** The next info() asks the engine. */
  forget(): void;
}

export function cacheInfo(port: DockerPort): InfoCache {
  let info: Promise<EngineInfo> | undefined;
  const cachedInfo = (): Promise<EngineInfo> => {
    const asked = (info ??= port.info());
    // A failed answer is not remembered.
    asked.catch(() => {
      if (info === asked) info = undefined;
    });
    return asked;
  };
  const wrapped = new Proxy(port, {
    get(target, prop) {
      if (prop === 'info') return cachedInfo;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    port: wrapped,
    forget: () => {
      info = undefined;
    },
  };
}
