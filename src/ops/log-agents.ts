/**
 * Whose logs `getManyLogs` reads, and on which engine: the named agents (each located as a one-agent
 * command locates it, locate-agent.ts), or every agent of the project. For a file with `engines:`,
 * every engine is listed in parallel and each agent is read on the engine the file pins it to (a stray
 * copy elsewhere is not the agent; `engine` reads one engine's containers, strays included). An engine
 * that cannot be reached is given back with the file's agents on it, as ps reports it, and the other
 * engines' agents are still read.
 */
import type { DockerPort } from '../docker/port.js';
import { AgentctlError, AgentEngineUnreachableError, toAgentctlError } from '../errors.js';
import { engineOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines, unreachableEngine } from '../fleet/open-engines.js';
import { LOCAL_ENGINE, type UnreachableEngine } from '../types.js';
import { naturalCompare } from '../util/natural-sort.js';
import { type AgentsFile, engineNamed, type LocateOptions, locateAgent } from './locate-agent.js';
import { ours, type ResolvedAgent } from './resolve-agent.js';

export interface LogSource {
  agent: ResolvedAgent;
  port: DockerPort;
  /** The engine's name in the file (`local` without one). */
  engine: string;
}

export interface LogSources {
  found: LogSource[];
  /** Engines that could not be asked (sorted by name), with the file's agents on them. */
  unreachable: UnreachableEngine[];
}

export async function logSources(
  port: DockerPort,
  ids: readonly string[],
  opts: LocateOptions,
): Promise<LogSources> {
  if (ids.length > 0) return named(ids, opts);
  const { project, desired } = opts;
  if (project === undefined) {
    throw new AgentctlError(
      'usage',
      'no agent named, and no project to take every agent of: name agents, or give a file or a project',
    );
  }
  // A usage error, before any engine is asked, for a name that is not one of the file's engines.
  const only = opts.engine === undefined ? undefined : engineNamed(desired, opts.engine).name;
  if (desired !== undefined && (only !== undefined || hasOtherEngines(desired)))
    return everyEngine(port, project, only, desired);
  const found = ours(await port.listManaged(project), project)
    .sort((a, b) => naturalCompare(a.agentId, b.agentId))
    .map((agent) => ({ agent, port, engine: LOCAL_ENGINE }));
  if (found.length === 0)
    throw new AgentctlError('not-found', `project "${project}" has no agents on the engine`);
  return { found, unreachable: [] };
}

/** Each id once (in the order given); one whose engine does not answer is reported, not fatal. */
async function named(ids: readonly string[], opts: LocateOptions): Promise<LogSources> {
  const settled = await Promise.allSettled(ids.map((id) => locateAgent(id, opts)));
  const found: LogSource[] = [];
  const missed = new Map<string, UnreachableEngine>();
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      const a = s.value;
      if (!found.some((f) => f.agent.id === a.id && f.port === a.port))
        found.push({ agent: a, port: a.port, engine: a.engine });
      return;
    }
    if (!(s.reason instanceof AgentEngineUnreachableError)) throw s.reason;
    const { engine, message } = s.reason;
    const u = missed.get(engine) ?? { engine, message, agents: [] };
    u.agents = [...new Set([...u.agents, ids[i] as string])].sort();
    missed.set(engine, u);
  });
  return { found, unreachable: [...missed.values()].sort((a, b) => naturalCompare(a.engine, b.engine)) };
}

/**
 * Every engine of the file (or the chosen one) listed in parallel. Without a chosen engine, a container
 * of an agent the file pins to another engine is a stray and left out: its id would mean two agents.
 */
async function everyEngine(
  port: DockerPort,
  project: string,
  only: string | undefined,
  desired: AgentsFile,
): Promise<LogSources> {
  const { open, failed } = await openFileEngines(desired, port);
  const wanted = <T extends { name: string }>(e: T) => only === undefined || e.name === only;
  const unreachable = failed
    .filter((f) => wanted(f.spec))
    .map((f) => unreachableEngine(desired, f.spec.name, f.message));
  const home = new Map(desired.agents.map((a) => [a.id, engineOf(a)]));
  const lists = await Promise.all(
    open.filter(wanted).map(async (e): Promise<LogSource[]> => {
      try {
        const mine = ours(await e.port.listManaged(project), project).filter(
          (a) => only !== undefined || (home.get(a.agentId) ?? e.name) === e.name,
        );
        return mine.map((agent) => ({ agent, port: e.port, engine: e.name }));
      } catch (err) {
        unreachable.push(unreachableEngine(desired, e.name, toAgentctlError(err).message));
        return [];
      }
    }),
  );
  unreachable.sort((a, b) => naturalCompare(a.engine, b.engine));
  const found = lists
    .flat()
    .sort(
      (a, b) =>
        naturalCompare(a.agent.agentId, b.agent.agentId) ||
        naturalCompare(a.engine, b.engine) ||
        naturalCompare(a.agent.name, b.agent.name),
    );
  if (found.length === 0 && unreachable.length === 0) {
    const where = only !== undefined ? `engine ${only}` : 'any engine of the file';
    throw new AgentctlError('not-found', `project "${project}" has no agents on ${where}`);
  }
  return { found, unreachable };
}
