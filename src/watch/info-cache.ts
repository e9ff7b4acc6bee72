/**
 * The watcher's memory of the engine's info (CPUs, memory, runtimes, version), which preflight reads
 * on every run with actions. At 1000 agents the engine takes 100-800 ms to answer /info (it counts
 * its containers), as long as the rest of a saved change of one agent; what preflight reads of it
 * changes only when the engine is restarted or reconfigured. Asked again on the watcher's full looks
 * (its start, every resync, a reconnect to the engine), as the InspectCache is.
 */
import type { DockerPort } from '../docker/port.js';
import type { EngineInfo } from '../types.js';

export interface InfoCache {
  /** The port, its info() answered from memory. */
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
