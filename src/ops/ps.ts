/** ps: one row per agent of the project, declared or running. */
import { LABEL } from '../labels.js';
import { observe } from '../reconcile/observe.js';
import type { DesiredState } from '../types.js';
import { type OpContext, portOf } from './context.js';

export interface AgentRow {
  agent: string;
  container: string;
  /** Engine state, or `missing` for a declared agent without a container. */
  state: string;
  image: string;
  memoryBytes?: number;
  nanoCpus?: number;
  /** Milliseconds since the container started, when running. */
  uptimeMs?: number;
  /** Whether the agent is still declared in the file. */
  declared: boolean;
  containerId?: string;
}

export async function ps(desired: DesiredState, ctx: OpContext = {}, now = Date.now()): Promise<AgentRow[]> {
  const observed = await observe(portOf(ctx), desired, { inspectAll: true });
  const declared = new Set(desired.agents.map((a) => a.id));
  const rows: AgentRow[] = observed.containers.map((c) => ({
    agent: c.agentId || c.labels[LABEL.agent] || '?',
    container: c.name,
    state: c.state,
    image: c.image,
    memoryBytes: c.limits?.memoryBytes,
    nanoCpus: c.limits?.nanoCpus,
    uptimeMs: c.state === 'running' && c.startedAt ? now - Date.parse(c.startedAt) : undefined,
    declared: declared.has(c.agentId),
    containerId: c.id,
  }));
  const seen = new Set(rows.map((r) => r.agent));
  for (const a of desired.agents) {
    if (seen.has(a.id)) continue;
    rows.push({ agent: a.id, container: a.name, state: 'missing', image: a.image, declared: true });
  }
  return rows.sort((a, b) => a.agent.localeCompare(b.agent) || a.container.localeCompare(b.container));
}
