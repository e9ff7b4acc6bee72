/**
 * Agent id (or container name) -> the one container that is that agent. Shared by every command that
 * acts on a single agent (exec, shell, logs, start/stop, inspect...), so they all accept the same names
 * and fail with the same messages.
 */
import type { ContainerSummary, DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import type { ContainerRunState } from '../types.js';

export interface ResolvedAgent {
  /** Container id. */
  id: string;
  /** Container name. */
  name: string;
  project: string;
  agentId: string;
  state: ContainerRunState;
}

/** A container id or a prefix of one long enough to mean something. */
const CONTAINER_ID = /^[0-9a-f]{4,64}$/;

export interface ResolveOptions {
  /** Look only in this project (from `--project`, or the project of `--file`). */
  project?: string;
}

/**
 * Finds the agent by its id (`agentctl.agent` label), its container name (`claude-agent-x`) or its
 * container id (or a unique prefix of it, at least 4 hex digits).
 * Without a project, any project we manage is searched; an id found in several is an error listing them.
 * Leftovers of an interrupted recreate (actual name differs from the `agentctl.name` label) are skipped.
 */
export async function resolveAgent(
  port: DockerPort,
  idOrName: string,
  opts: ResolveOptions = {},
): Promise<ResolvedAgent> {
  const labels: Record<string, string> = { [LABEL.agent]: idOrName };
  if (opts.project !== undefined) labels[LABEL.project] = opts.project;
  let found = ours(await port.listContainers(labels), opts.project);
  // Not an agent id: maybe a container name. Only ours count, so a name never reaches someone else's.
  if (found.length === 0) found = ours(await port.listContainersByName([idOrName]), opts.project);
  // Nor a name: maybe a container id or a unique prefix of one, as docker takes (`ps` shows them).
  if (found.length === 0 && CONTAINER_ID.test(idOrName)) {
    const managed = await port.listManaged(opts.project);
    found = ours(
      managed.filter((c) => c.id.startsWith(idOrName)),
      opts.project,
    );
  }

  if (found.length === 1) return found[0]!;
  const where = opts.project !== undefined ? ` in project "${opts.project}"` : '';
  if (found.length === 0) {
    throw new AgentctlError('not-found', `no agent "${idOrName}"${where}`);
  }
  throw new AgentctlError(
    'usage',
    `agent "${idOrName}" is ambiguous${where}: it names agents in several projects`,
    {
      optIn: 'project',
      details: found.map((c) => `  ${c.project}/${c.agentId} (${c.name})`).sort((a, b) => a.localeCompare(b)),
    },
  );
}

/** The rows that are our agents (of `project`, when given), leftovers of an interrupted recreate left out. */
export function ours(rows: ContainerSummary[], project: string | undefined): ResolvedAgent[] {
  return rows
    .filter((c) => {
      const p = c.labels[LABEL.project];
      const agent = c.labels[LABEL.agent];
      if (!p || !agent) return false; // not ours
      if (project !== undefined && p !== project) return false;
      const intended = c.labels[LABEL.name];
      return intended === undefined || intended === c.name; // a leftover replacement is not the agent
    })
    .map((c) => ({
      id: c.id,
      name: c.name,
      project: c.labels[LABEL.project]!,
      agentId: c.labels[LABEL.agent]!,
      state: c.state,
    }));
}

/** The message every command uses for an agent whose container exists but is not running. */
export function notRunningError(agent: { agentId: string; state?: string }, cause?: unknown): AgentctlError {
  // Created or exited both just mean "not started": only the unusual states are worth naming.
  const state = agent.state && !['created', 'exited'].includes(agent.state) ? ` (${agent.state})` : '';
  return new AgentctlError(
    'not-running',
    `agent ${agent.agentId} is not running${state}; start it with agentctl start ${agent.agentId}`,
    { cause },
  );
}
