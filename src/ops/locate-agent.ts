/**
 * Agent id -> the engine that holds it, for the commands that act on one agent (inspect, exec, logs, cp,
 * start/stop/restart/rm, shell, mcp). A file with `engines:` pins each agent to one engine: the id is
 * looked up there, on that engine's connection. An agent that is not there but on another engine of the
 * file is reported as such (apply would move or remove it), never as "not found" and never acted on in
 * the wrong place. Without such a file (or without a file) it is the local engine, as before.
 *
 * `engine` names one engine of the file to look on instead, and only there: that is how a stray copy is
 * reached (inspected, its logs read, its files copied out, stopped or removed) while the file pins the
 * agent elsewhere.
 *
 * The file's engines are opened together (fleet/open-engines.ts): a file naming one engine twice is refused
 * before any is looked on, and the ids of one command (or of one AgentManager) share their connections.
 */
import type { HostFs } from '../docker/host-fs.js';
import { localHostFs } from '../docker/local-host-fs.js';
import type { OpenEngine } from '../docker/engines.js';
import type { DockerPort } from '../docker/port.js';
import { AgentctlError, AgentEngineUnreachableError, toAgentctlError } from '../errors.js';
import { closest } from '../util/did-you-mean.js';
import { enginesOf, engineOf, hasOtherEngines } from '../fleet/engines-of.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { type DesiredState, type EngineSpec, LOCAL_ENGINE } from '../types.js';
import { type OpContext, portOf } from './context.js';
import { type ResolvedAgent, resolveAgent } from './resolve-agent.js';

/** What of a loaded agents file placement needs. */
export type AgentsFile = Pick<DesiredState, 'engines' | 'agents' | 'runtimeDir'>;

export interface LocateOptions extends OpContext {
  project?: string;
  /** The agents file the id comes from (`--file`, ./agents.yaml): its `engines:` say where to look. */
  desired?: AgentsFile;
  /** Look on this engine of the file only (a stray copy's), whatever engine the file pins the agent to. */
  engine?: string;
}

export interface LocatedAgent extends ResolvedAgent {
  /** The engine's name in the file (`local` without one). */
  engine: string;
  port: DockerPort;
  /** The filesystem of that engine's host (its working directories). */
  host: HostFs;
}

export async function locateAgent(idOrName: string, opts: LocateOptions = {}): Promise<LocatedAgent> {
  const { desired, project } = opts;
  if (opts.engine !== undefined) {
    const spec = engineNamed(desired, opts.engine);
    return lookOn(spec, idOrName, opts).catch((err: unknown) => {
      const e = toAgentctlError(err);
      if (e.kind !== 'not-found') throw notAnswering(spec.name, e);
      const where = project !== undefined ? ` in project "${project}"` : '';
      throw new AgentctlError('not-found', `no agent "${idOrName}"${where} on engine ${spec.name}`);
    });
  }
  if (!hasOtherEngines(desired)) {
    const port = portOf(opts);
    const agent = await resolveAgent(port, idOrName, { project });
    return { ...agent, engine: LOCAL_ENGINE, port, host: localHostFs };
  }
  const engines = enginesOf(desired);
  const declared = desired.agents.find((a) => a.id === idOrName || a.name === idOrName);
  if (declared) {
    const home = engines.find((e) => e.name === engineOf(declared))!;
    const missing = await lookOn(home, idOrName, opts).catch((err: unknown) => toAgentctlError(err));
    if (!(missing instanceof AgentctlError)) return missing;
    if (missing.kind !== 'not-found') throw notAnswering(home.name, missing);
    const elsewhere = await lookEverywhere(
      engines.filter((e) => e !== home),
      idOrName,
      opts,
    );
    const [first] = elsewhere.found;
    if (!first) throw withUnreachable(missing, elsewhere.unreachable);
    const where = elsewhere.found.map((a) => `engine ${a.engine}`).join(' and ');
    const one = elsewhere.found.length === 1;
    throw new AgentctlError(
      'not-found',
      `agent ${declared.id} is not on its engine ${home.name} but on ${where}: a stray copy, left where it was; ` +
        (one
          ? `a migration moves it (and its /mnt) to ${home.name}`
          : `apply refuses copies on two other engines; remove the one you do not want`),
      { optIn: one ? 'migrateOrEngine' : 'engine' },
    );
  }
  // Not an id or container name of the file: a container id (prefix), or an agent the file no longer
  // declares. Every engine is asked; more than one answer is ambiguous.
  const { found, unreachable } = await lookEverywhere(engines, idOrName, opts);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const where = project !== undefined ? ` in project "${project}"` : '';
    throw withUnreachable(
      new AgentctlError('not-found', `no agent "${idOrName}"${where} on any engine of the file`),
      unreachable,
    );
  }
  throw new AgentctlError(
    'usage',
    `agent "${idOrName}" is ambiguous: it names containers on several engines`,
    {
      details: found.map((a) => `  ${a.project}/${a.agentId} (${a.name}) on engine ${a.engine}`).sort(),
    },
  );
}

/**
 * The engine of the file called `name`, for a caller that chooses one: a usage error naming the file's
 * engines (and the closest) for any other name, or when there is no file with `engines:` to choose from.
 */
export function engineNamed(desired: AgentsFile | undefined, name: string): EngineSpec {
  if (desired?.engines === undefined)
    throw new AgentctlError(
      'usage',
      `engine "${name}": only an agents file that declares engines: has engines to choose from`,
    );
  const engines = enginesOf(desired);
  const spec = engines.find((e) => e.name === name);
  if (spec) return spec;
  const names = engines.map((e) => e.name);
  const suggestion = closest(name, names);
  throw new AgentctlError(
    'usage',
    `unknown engine "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (the file's engines: ${names.join(', ')})`,
  );
}

async function lookOn(spec: EngineSpec, idOrName: string, opts: LocateOptions): Promise<LocatedAgent> {
  const e = await fileEngine(opts.desired!, spec.name, opts);
  const agent = await resolveAgent(e.port, idOrName, { project: opts.project });
  return { ...agent, engine: spec.name, port: e.port, host: e.host };
}

/** The file's engine `name`, opened with the others (or why it cannot be). */
export async function fileEngine(desired: AgentsFile, name: string, ctx: OpContext): Promise<OpenEngine> {
  const { open, failed } = await openFileEngines(desired, portOf(ctx));
  const e = open.find((x) => x.name === name);
  if (e) return e;
  const f = failed.find((x) => x.spec.name === name);
  throw f?.error ?? new AgentctlError('usage', `unknown engine "${name}"`);
}

/** Asked in parallel; an engine that cannot be reached is noted, not fatal (the agent may be elsewhere). */
async function lookEverywhere(
  engines: EngineSpec[],
  idOrName: string,
  opts: LocateOptions,
): Promise<{ found: LocatedAgent[]; unreachable: AgentctlError[] }> {
  const settled = await Promise.allSettled(engines.map((e) => lookOn(e, idOrName, opts)));
  const found: LocatedAgent[] = [];
  const unreachable: AgentctlError[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') found.push(s.value);
    else {
      const err = toAgentctlError(s.reason);
      // An ambiguous id on one engine is as ambiguous for the whole file.
      if (err.kind === 'usage') throw err;
      if (err.kind !== 'not-found') unreachable.push(err);
    }
  }
  return { found, unreachable };
}

/** An engine that did not answer, tagged with its name in the file; any other failure as it is. */
function notAnswering(engine: string, e: AgentctlError): AgentctlError {
  const unanswered = e.kind === 'engine-unreachable' || e.kind === 'engine-timeout';
  return unanswered ? new AgentEngineUnreachableError(engine, e) : e;
}

/** "Not found" is only as good as the engines that answered: name the ones that did not. */
function withUnreachable(err: AgentctlError, unreachable: AgentctlError[]): AgentctlError {
  if (unreachable.length === 0) return err;
  return new AgentctlError(
    'engine-unreachable',
    `${err.message}; not every engine could be asked, it may be on one of them`,
    { details: unreachable.map((u) => `  ${u.message}`) },
  );
}
