/**
 * Per-agent repair back-off for the watch controller, as data. Like a crash-loop back-off: an agent's
 * first repair is immediate, each further one waits twice as long as the one before (from `initialMs`
 * up to `maxMs`), and an agent seen up `resetAfterMs` after its last repair starts over.
 *
 * Pure: the clock is an argument everywhere, the planner stays untouched (the controller filters its
 * plan with `decide`), and the executor never learns any of it.
 */
import { canonicalJson } from '../spec-hash.js';
import type { Action, AgentSpec, Plan } from '../types.js';

export interface BackoffPolicy {
  /** The wait before an agent's second repair; it doubles for each repair after that. */
  initialMs: number;
  maxMs: number;
  /** An agent seen up this long after its last repair has recovered: its next repair is immediate. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 30_000 };

export interface AgentBackoff {
  /** Repairs made since the agent last recovered. */
  repairs: number;
  /** When the last of them was made (ms). */
  lastRepairAt: number;
}

/** Agent id -> its back-off; an agent without an entry has not been repaired lately. */
export type BackoffState = Readonly<Record<string, AgentBackoff>>;

/** Agent id -> a key of its whole desired spec: equal keys, same spec. */
export type SpecKeys = Readonly<Record<string, string>>;

export interface HeldAgent {
  agent: string;
  /** When the held repair may be made (ms). */
  until: number;
  /** The wait imposed after the previous repair. */
  delayMs: number;
  /** Which repair it will be (2 = the second since the agent last recovered). */
  attempt: number;
}

export interface Decision {
  /** The plan without the held agents' actions. */
  plan: Plan;
  held: HeldAgent[];
  /** Agents whose actions in `plan` repair drift (rather than apply a change of the file). */
  repairs: string[];
}

export function specKeys(agents: readonly AgentSpec[]): SpecKeys {
  return Object.fromEntries(agents.map((a) => [a.id, canonicalJson(a)]));
}

/** The wait after `repairs` repairs before the next one. */
export function delayAfter(repairs: number, policy: BackoffPolicy): number {
  if (repairs <= 0) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (repairs - 1));
}

/** When `agent` may next be repaired (0: at once). */
export function nextRepairAt(state: BackoffState, agent: string, policy: BackoffPolicy): number {
  const b = state[agent];
  return b ? b.lastRepairAt + delayAfter(b.repairs, policy) : 0;
}

/**
 * Which of the plan's agents to hold back at `now`. An agent whose spec is the one last applied
 * (`applied`) and that still needs actions has drifted (crashed, was stopped, removed or updated behind
 * our back): that is a repair, held while its back-off runs. An agent whose spec changed is applying
 * the file: never held, whatever its history.
 */
export function decide(
  p: Plan,
  ctx: { state: BackoffState; applied: SpecKeys; desired: SpecKeys; now: number; policy: BackoffPolicy },
): Decision {
  const repairs: string[] = [];
  const held: HeldAgent[] = [];
  for (const agent of agentsWithActions(p.actions)) {
    const key = ctx.desired[agent];
    if (key === undefined || ctx.applied[agent] !== key) continue;
    const until = nextRepairAt(ctx.state, agent, ctx.policy);
    if (until <= ctx.now) {
      repairs.push(agent);
      continue;
    }
    const repairsSoFar = ctx.state[agent]?.repairs ?? 0;
    held.push({
      agent,
      until,
      delayMs: delayAfter(repairsSoFar, ctx.policy),
      attempt: repairsSoFar + 1,
    });
  }
  return { plan: withhold(p, new Set(held.map((h) => h.agent))), held, repairs };
}

/**
 * The back-off after a reconcile carried out `decision.plan` at `now`: repairs count up, agents that
 * applied a change of the file start afresh, agents found in the desired state were seen up, and agents
 * no longer declared are forgotten.
 */
export function settle(
  state: BackoffState,
  ctx: {
    decision: Decision;
    unchanged: readonly string[];
    desired: SpecKeys;
    now: number;
    policy: BackoffPolicy;
  },
): BackoffState {
  let next: Record<string, AgentBackoff> = { ...state };
  const repairs = new Set(ctx.decision.repairs);
  for (const agent of agentsWithActions(ctx.decision.plan.actions)) {
    if (repairs.has(agent)) {
      next[agent] = { repairs: (next[agent]?.repairs ?? 0) + 1, lastRepairAt: ctx.now };
    } else {
      delete next[agent];
    }
  }
  next = { ...sawUp(next, ctx.unchanged, ctx.now, ctx.policy) };
  for (const agent of Object.keys(next)) if (ctx.desired[agent] === undefined) delete next[agent];
  return next;
}

/**
 * The agents were up at `at` (found in the desired state, or running until they died then): those up
 * for `resetAfterMs` since their last repair have recovered.
 */
export function sawUp(
  state: BackoffState,
  agents: readonly string[],
  at: number,
  policy: BackoffPolicy,
): BackoffState {
  const recovered = agents.filter((a) => {
    const b = state[a];
    return b !== undefined && at - b.lastRepairAt >= policy.resetAfterMs;
  });
  if (recovered.length === 0) return state;
  const next = { ...state };
  for (const a of recovered) delete next[a];
  return next;
}

/** The plan without the actions (and name conflicts) of `agents`. */
export function withhold(p: Plan, agents: ReadonlySet<string>): Plan {
  if (agents.size === 0) return p;
  return {
    ...p,
    actions: p.actions.filter((a) => !agents.has(a.agentId)),
    conflicts: p.conflicts.filter((c) => !agents.has(c.agentId)),
  };
}

function agentsWithActions(actions: readonly Action[]): string[] {
  return [...new Set(actions.map((a) => a.agentId))];
}
