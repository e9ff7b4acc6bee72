/**
 * Create one agent from code, as if it were declared in agents.yaml: its settings go through the same
 * schema, defaults and normalization (parseConfig), and it is made by the same reconcile as `apply`,
 * without pruning, so the project's other agents are never touched.
 */
import { parseConfig } from '../config/load.js';
import type { RawAgent } from '../config/raw.js';
import { AgentctlError } from '../errors.js';
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
}

/**
 * Resolves once the agent's container exists (and runs, unless `state: stopped`). An existing agent with
 * other settings is converged to these (recreated if need be), unless `createOnly`.
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
  // JSON is YAML: config errors then point at a line of this text, named after the call.
  const desired = parseConfig(JSON.stringify(raw, null, 2), {
    file: `createAgent(${JSON.stringify(id)})`,
    baseDir: fleet.runtimeDir,
    defaultProject: fleet.project,
  });
  const { report } = await reconcile(desired, {
    port: opts.port,
    prune: false,
    lockWaitMs: opts.lockWaitMs,
    createOnly: opts.createOnly,
  });
  const failed = report.results.find((r) => !r.ok);
  if (failed) {
    throw new AgentctlError('engine', `create agent ${id}: ${failed.action.kind} failed: ${failed.error}`);
  }
}
