/**
 * Every engine of a file, opened for a command: the one place the commands open a file's engines, and
 * where a file naming one engine twice is refused (distinct-engines.ts) before any of them is used. One
 * that cannot even be opened (an address no transport drives) is kept as a failure with its error, like
 * one that does not answer, for the commands that report on each engine rather than fail whole.
 */
import { type OpenEngine, openEngine } from '../docker/engines.js';
import { type AgentctlError, toAgentctlError } from '../errors.js';
import { type DesiredState, type EngineSpec, type UnreachableEngine } from '../types.js';
import type { DockerPort } from '../docker/port.js';
import { refuseSameEngine } from './distinct-engines.js';
import { engineOf, enginesOf } from './engines-of.js';

export interface OpenedEngines {
  open: OpenEngine[];
  failed: { spec: EngineSpec; message: string; error: AgentctlError }[];
}

/** What of a loaded file opening its engines needs. */
export type FileEngines = Pick<DesiredState, 'engines' | 'runtimeDir'>;

/** Opened engines by loaded file and local port (see openFileEngines). */
const opened = new WeakMap<FileEngines, WeakMap<DockerPort, OpenedEngines>>();

/**
 * The file's engines, the same-engine refusal passed. Opened once per loaded file and local port: the
 * commands that look agents up one at a time (exec, logs, rm of several ids, stats' every sample, an MCP
 * server's calls, an AgentManager's) keep the same connections, and each engine's /info answer, which
 * makes the refusal a memory lookup after the first one. `fresh`: opened anew, for a run of apply or
 * diff, whose preflight reads the engines' resources: once per run, the watcher's runs included.
 */
export async function openFileEngines(
  desired: FileEngines,
  localPort: DockerPort,
  opts: { fresh?: boolean } = {},
): Promise<OpenedEngines> {
  let engines = opts.fresh ? undefined : opened.get(desired)?.get(localPort);
  if (!engines) {
    engines = openEach(desired, localPort);
    if (!opts.fresh) {
      const byPort = opened.get(desired) ?? new WeakMap<DockerPort, OpenedEngines>();
      byPort.set(localPort, engines);
      opened.set(desired, byPort);
    }
  }
  // Asked each time: an engine that did not answer before is compared once it does.
  await refuseSameEngine(engines.open);
  return engines;
}

function openEach(desired: FileEngines, localPort: DockerPort): OpenedEngines {
  const out: OpenedEngines = { open: [], failed: [] };
  for (const spec of enginesOf(desired)) {
    try {
      out.open.push(openEngine(spec, { localPort }));
    } catch (err) {
      const error = toAgentctlError(err);
      out.failed.push({ spec, message: error.message, error });
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
