/**
 * The fleet planner: pure, over every engine of the file. Each engine's own agents are planned by the
 * one-engine planner (reconcile/plan.ts) against what that engine holds; what only the fleet can see is
 * decided here:
 * - a container of an agent on an engine other than the file's (its home): when the agent also has a
 *   container at home, it is a stray copy and is removed (its working directory stays on that host);
 *   when it has none at home, the agent is MOVING: that is a data migration, refused (a conflict) unless
 *   `migrate`, and then a visible Migration instead of a fresh, empty create at home;
 * - an engine that could not be observed: its agents are withheld and reported, the others go on.
 * Every action carries its engine. Same inputs, same plan, same order.
 */
import { createdSpec } from '../labels.js';
import type {
  Action,
  Conflict,
  DesiredState,
  EngineSpec,
  FailingAgent,
  Migration,
  ObservedContainer,
  ObservedState,
  Plan,
  UnreachableEngine,
} from '../types.js';
import { LOCAL_ENGINE } from '../types.js';
import { plan as planEngine, type PlanOptions } from '../reconcile/plan.js';
import { naturalCompare } from '../util/natural-sort.js';
import { engineOf, enginesOf } from './engines-of.js';

export type EngineObservation = { ok: true; observed: ObservedState } | { ok: false; message: string };

/** What each engine of the file holds (every engine of enginesOf(desired) has an entry). */
export type FleetObserved = Record<string, EngineObservation>;

export interface FleetPlanOptions {
  prune?: boolean;
  /** Carry out moves between engines (copying /mnt); without it a move is a conflict. */
  migrate?: boolean;
  /** Agents another file created, taken over on each engine (see PlanOptions.takeOver). */
  takeOver?: PlanOptions['takeOver'];
}

export interface FleetPlan {
  /** Everything, merged, for rendering and for the mass-prune check. */
  plan: Plan;
  /** Each reachable engine's part (actions tagged), for preflight and execution on that engine. */
  perEngine: Record<string, Plan>;
}

/** The file as one engine sees it: its agents only, its runtime directory. */
export function desiredOn(desired: DesiredState, engine: EngineSpec): DesiredState {
  const agents = desired.agents.filter((a) => engineOf(a) === engine.name);
  const ids = new Set(agents.map((a) => a.id));
  const { engines: _engines, secrets, ...rest } = desired;
  const own = secrets?.filter((s) => ids.has(s.agentId));
  return {
    ...rest,
    runtimeDir: engine.runtimeDir,
    agents,
    builds: engine.name === LOCAL_ENGINE ? desired.builds : [],
    ...(own && own.length > 0 && { secrets: own }),
  };
}

export function planFleet(
  desired: DesiredState,
  fleet: FleetObserved,
  opts: FleetPlanOptions = {},
): FleetPlan {
  const engines = enginesOf(desired);
  const home = new Map(desired.agents.map((a) => [a.id, engineOf(a)]));
  const specs = new Map(desired.agents.map((a) => [a.id, a]));
  const reachable = (name: string) => fleet[name]?.ok === true;
  const observedOn = (name: string): ObservedState | undefined => {
    const o = fleet[name];
    return o?.ok ? o.observed : undefined;
  };

  // Where each declared agent has a container that is not a leftover, engine by engine.
  const presentOn = new Map<string, Map<string, ObservedContainer>>();
  for (const e of engines) {
    for (const c of observedOn(e.name)?.containers ?? []) {
      if (c.temporary || !home.has(c.agentId)) continue;
      const at = presentOn.get(c.agentId) ?? new Map<string, ObservedContainer>();
      if (!at.has(e.name)) at.set(e.name, c);
      presentOn.set(c.agentId, at);
    }
  }

  const perEngine: Record<string, Plan> = {};
  const extra: Record<string, Action[]> = {};
  const conflicts: Conflict[] = [];
  const migrations: Migration[] = [];
  const moving = new Set<string>();
  for (const e of engines) {
    const observed = observedOn(e.name);
    if (!observed) continue;
    const own = observed.containers.filter((c) => (home.get(c.agentId) ?? e.name) === e.name);
    const p = planEngine(
      desiredOn(desired, e),
      { ...observed, containers: own },
      {
        prune: opts.prune,
        takeOver: opts.takeOver,
      },
    );
    perEngine[e.name] = p;
    extra[e.name] = [];
    for (const c of observed.containers) {
      const agentHome = home.get(c.agentId);
      if (agentHome === undefined || agentHome === e.name) continue;
      if (c.temporary) {
        extra[e.name]?.push(removal(c, e.name, 'leftover replacement from an interrupted recreate'));
        continue;
      }
      if (!reachable(agentHome)) continue; // its home cannot be seen: nothing can be decided
      if (presentOn.get(c.agentId)?.has(agentHome)) {
        const dir = workDirOf(c);
        extra[e.name]?.push(
          removal(
            c,
            e.name,
            `stray copy: agent ${c.agentId} runs on engine ${agentHome} (as the file says); its data on engine ${e.name}'s host is kept${dir ? ` in ${dir}` : ''}`,
          ),
        );
        continue;
      }
      moving.add(c.agentId);
    }
  }

  // Moves: the agent has no container at home but one elsewhere.
  for (const id of [...moving].sort(naturalCompare)) {
    const to = home.get(id) as string;
    const spec = specs.get(id);
    const sources = [...(presentOn.get(id) ?? new Map<string, ObservedContainer>()).entries()].sort(
      ([a], [b]) => naturalCompare(a, b),
    );
    const target = perEngine[to];
    if (!spec || !target) continue;
    // No fresh, empty agent at home while its data is elsewhere.
    target.actions = target.actions.filter((a) => a.agentId !== id);
    const [first] = sources;
    if (sources.length > 1 || !first) {
      conflicts.push({
        agentId: id,
        engine: to,
        name: spec.name,
        containerId: first?.[1].id ?? '',
        message: `agent ${id} is on engines ${sources.map(([n]) => n).join(' and ')} but the file puts it on engine ${to}; agentctl moves one copy only: remove the others (agentctl down on that engine, or docker rm), then migrate it`,
      });
      continue;
    }
    const [from, c] = first;
    const dir = workDirOf(c);
    if (!opts.migrate) {
      conflicts.push({
        agentId: id,
        engine: to,
        name: spec.name,
        containerId: c.id,
        message: `agent ${id} is on engine ${from}, but the file puts it on engine ${to}: moving it copies its /mnt to ${to} (a migration); nothing was moved, its data stays on ${from}'s host${dir ? ` in ${dir}` : ''}`,
        optIn: 'migrate',
      });
      continue;
    }
    migrations.push({
      agentId: id,
      spec,
      from: { engine: from, containerId: c.id, name: c.name, ...(dir && { workDir: dir }) },
      to,
      cause: `the file moves agent ${id} from engine ${from} to engine ${to}`,
    });
  }

  for (const e of engines) {
    const p = perEngine[e.name];
    if (!p) continue;
    p.actions = [...p.actions, ...(extra[e.name] ?? [])]
      .map((a) => ({ ...a, engine: e.name }))
      .sort((a, b) => naturalCompare(a.agentId, b.agentId));
    p.conflicts = p.conflicts.map((c) => ({ ...c, engine: e.name }));
  }

  const unreachable: UnreachableEngine[] = engines.flatMap((e) => {
    const o = fleet[e.name];
    if (!o || o.ok) return [];
    return [
      {
        engine: e.name,
        message: o.message,
        agents: desired.agents.filter((a) => engineOf(a) === e.name).map((a) => a.id),
      },
    ];
  });

  const plans = engines.flatMap((e) => (perEngine[e.name] ? [perEngine[e.name] as Plan] : []));
  const actions = plans
    .flatMap((p) => p.actions)
    .sort((a, b) => naturalCompare(a.agentId, b.agentId) || naturalCompare(a.engine ?? '', b.engine ?? ''));
  const busy = new Set([...actions.map((a) => a.agentId), ...migrations.map((m) => m.agentId), ...moving]);
  const failing: FailingAgent[] = plans.flatMap((p) => p.failing ?? []);
  const egress = perEngine[LOCAL_ENGINE]?.egress;
  const adopted = plans.flatMap((p) => p.adopted ?? []).sort((a, b) => naturalCompare(a.agentId, b.agentId));
  const merged: Plan = {
    project: desired.project,
    actions,
    unchanged: plans
      .flatMap((p) => p.unchanged)
      .filter((id) => !busy.has(id))
      .sort(naturalCompare),
    conflicts: [...plans.flatMap((p) => p.conflicts), ...conflicts].sort((a, b) =>
      naturalCompare(a.agentId, b.agentId),
    ),
    ...(failing.length > 0 && { failing: failing.sort((a, b) => naturalCompare(a.agentId, b.agentId)) }),
    ...(adopted.length > 0 && { adopted }),
    ...(egress && egress.length > 0 && { egress }),
    ...(migrations.length > 0 && { migrations }),
    ...(unreachable.length > 0 && { unreachable }),
  };
  // Conflicts of moves belong to the target engine's preflight.
  for (const c of conflicts) perEngine[c.engine ?? LOCAL_ENGINE]?.conflicts.push(c);
  return { plan: merged, perEngine };
}

function removal(c: ObservedContainer, engine: string, cause: string): Action {
  return { kind: 'remove', agentId: c.agentId, engine, containerId: c.id, name: c.name, cause };
}

/** The working directory the container was created with (from its spec label). */
function workDirOf(c: ObservedContainer): string | undefined {
  const dir = createdSpec(c.labels)?.workDir;
  return typeof dir === 'string' ? dir : undefined;
}
