/**
 * Every engine of a file opened for a command that reports on each (ps, down, cleanup): one that cannot
 * even be opened (an address no transport drives) is kept as a failure with its message, like one that
 * does not answer, rather than failing the whole command.
 */
import { type OpenEngine, openEngine } from '../docker/engines.js';
import { toAgentctlError } from '../errors.js';
import { type DesiredState, type EngineSpec, type UnreachableEngine } from '../types.js';
import type { DockerPort } from '../docker/port.js';
import { engineOf, enginesOf } from './engines-of.js';

export interface OpenedEngines {
  open: OpenEngine[];
  failed: { spec: EngineSpec; message: string }[];
}

export function openEngines(
  desired: Pick<DesiredState, 'engines' | 'runtimeDir'>,
  localPort: DockerPort,
): OpenedEngines {
  const out: OpenedEngines = { open: [], failed: [] };
  for (const spec of enginesOf(desired)) {
    try {
      out.open.push(openEngine(spec, { localPort }));
    } catch (err) {
      out.failed.push({ spec, message: toAgentctlError(err).message });
    }
  }
  return out;
}

/** An engine that could not be reached, with the file's agents on it (sorted). */
export function unreachableEngine(
  desired: Pick<DesiredState, 'agents'>,
  engine: string,
  message: string,
): UnreachableEngine {
  const agents = desired.agents
    .filter((a) => engineOf(a) === engine)
    .map((a) => a.id)
    .sort();
  return { engine, message, agents };
}

/** One line for an unreachable engine (the transport's message names the engine already when it can). */
export function unreachableText(u: UnreachableEngine, host?: string): string {
  const where = host ? ` (${host})` : '';
  const msg = u.message.startsWith(`engine ${u.engine} `)
    ? u.message
    : `engine ${u.engine}${where}: ${u.message}`;
  const agents =
    u.agents.length > 0
      ? `; agent${u.agents.length === 1 ? '' : 's'} ${u.agents.join(', ')} not looked at`
      : '';
  return `${msg}${agents}`;
}
