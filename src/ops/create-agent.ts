/**
 * Create one agent from code, as if it were declared in agents.yaml: its settings go through the same
 * schema, defaults and normalization (parseConfig), and it is made by the same reconcile as `apply`,
 * without pruning, so the project's other agents are never touched.
 */
import { parseConfig } from '../config/load.js';
import type { RawAgent } from '../config/raw.js';
import { prefixed } from '../config/field-path.js';
import { AgentctlError, type ConfigProblem } from '../errors.js';
import type { DesiredState } from '../types.js';
import type { OpContext } from './context.js';
import { reconcile } from './reconcile.js';

/** The agent's id and any agents.yaml agent field (`memory: '4g'`, `cpus: 2`, `env`, `image`...). */
export type CreateAgentOptions = Omit<RawAgent, 'replicas'> & { id: string };

export interface AgentFleet {
  project: string;
  /** Absolute. */
  runtimeDir: string;
  namePrefix?: string;
}

export interface CreateOptions extends OpContext {
  /** How long to wait for another run holding the project's lock. */
  lockWaitMs?: number;
  /**
   * Only make a new agent: if one with this id exists already (any state, any settings), throw an
   * AgentExistsError and change nothing, instead of converging it to these settings. Checked under the
   * project's lock, so of two racing calls exactly one creates it.
   */
  createOnly?: boolean;
  /**
   * Take over an agent that a file manages (its container records the agents.yaml that applied it, and
   * that file still exists): without it such an agent is refused with a FileManagedAgentError and left
   * as it is. With it the agent is recreated (data kept), even when nothing else differs: a container's
   * labels are fixed when it is made, and only a new one records that no file manages it. That file's
   * next apply changes it back (an agent no file records is anyone's). Not with createOnly (which never
   * replaces an agent).
   */
  adopt?: boolean;
}

/**
 * Resolves once the agent's container exists (and runs, unless `state: stopped`). An existing agent with
 * other settings is converged to these (recreated if need be), unless `createOnly`; one a file manages
 * is refused unless `adopt`.
 */
export async function createAgent(
  agent: CreateAgentOptions,
  fleet: AgentFleet,
  opts: CreateOptions = {},
): Promise<void> {
  const { id, ...fields } = agent;
  const raw = {
    version: 1,
    project: fleet.project,
    runtimeDir: fleet.runtimeDir,
    ...(fleet.namePrefix !== undefined ? { namePrefix: fleet.namePrefix } : {}),
    agents: { [id]: fields },
  };
  let desired: DesiredState;
  try {
    desired = parseConfig(JSON.stringify(raw, null, 2), {
      file: `createAgent(${JSON.stringify(id)})`,
      baseDir: fleet.runtimeDir,
      defaultProject: fleet.project,
    });
  } catch (err) {
    throw err instanceof AgentctlError && err.kind === 'config' ? withoutPositions(err, id) : err;
  }
  // Nobody wrote the text parsed: a line:col in it means nothing to the caller (preflight uses these).
  desired = { ...desired, positions: {} };
  const { report } = await reconcile(desired, {
    port: opts.port,
    prune: false,
    lockWaitMs: opts.lockWaitMs,
    createOnly: opts.createOnly,
    fromCode: { adopt: opts.adopt === true && !opts.createOnly, adoptable: !opts.createOnly },
    // Taking a file's agent over is exactly changing it behind that file's back.
    allowForeignChange: opts.adopt === true && !opts.createOnly,
  });
  const failed = report.results.find((r) => !r.ok);
  if (failed) {
    throw new AgentctlError('engine', `create agent ${id}: ${failed.action.kind} failed: ${failed.error}`);
  }
}

/**
 * A config error of the text made from the call: without its positions (they point into text nobody
 * wrote), each problem said of the agent's field (`agent x: memory: expected a size like 512m`). The
 * problems keep their field path, for a caller to say it in its own terms (run's CLI: the flag).
 */
function withoutPositions(err: AgentctlError, id: string): AgentctlError {
  const problems = err.problems.map(({ pos: _pos, ...p }): ConfigProblem => ({
    ...p,
    message: ofAgent(p, id),
  }));
  const lines = problems.map((p) => p.message);
  return new AgentctlError('config', lines[0] ?? err.message, {
    details: lines.slice(1),
    problems,
    cause: err,
  });
}

function ofAgent(p: ConfigProblem, id: string): string {
  if (p.path === undefined || p.reason === undefined) return p.message;
  const [top, agent, ...field] = p.path;
  return top === 'agents' && agent === id ? `agent ${id}: ${prefixed(field, p.reason)}` : p.message;
}
