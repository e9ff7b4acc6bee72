/**
 * What an engine's runtime registration (`/info` Runtimes: path, runtimeArgs, runtimeType) tells about
 * how the runtime behaves. Pure: the engine adapter feeds it, the unit tests pin it.
 */
import type { RuntimeTraits } from '../types.js';

/** One entry of the engine's `Runtimes` map, as Docker reports it. */
export interface ApiRuntime {
  path?: string;
  runtimeArgs?: string[] | null;
  runtimeType?: string;
}

export function runtimeTraitsOf(entry: ApiRuntime): RuntimeTraits {
  // gVisor is registered by its binary (/usr/bin/runsc) or, on newer engines, its shim type
  // (io.containerd.runsc.v1); the runtime's own name is the user's choice, so it proves nothing.
  const binary = (entry.path ?? '').split('/').pop() ?? '';
  const gvisor = /^runsc/.test(binary) || /\.runsc\./.test(entry.runtimeType ?? '');
  const args = entry.runtimeArgs ?? [];
  // Go's flag package takes -flag and --flag, with `=value` or the value as the next argument.
  const noNetwork =
    gvisor &&
    args.some((a, i) => /^--?network=none$/.test(a) || (/^--?network$/.test(a) && args[i + 1] === 'none'));
  return { gvisor, noNetwork };
}

/** Runtimes every engine has under these names: plain runc, which can do everything. */
export const DEFAULT_RUNTIMES: ReadonlySet<string> = new Set(['', 'runc', 'io.containerd.runc.v2']);
