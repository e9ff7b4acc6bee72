/**
 * `apply/diff --target ID`: carry out only part of the plan. Pure, like the planner: the full plan is made
 * first (so egress slots and causes are the same as a whole run's), then cut down to the targeted agents.
 *
 * A target names an agent id, a replica instance (`worker-2`), the key that declares replicas (`worker`:
 * every instance), or an agent the engine has that the file no longer declares (so it can be pruned on
 * its own). Anything else is a usage error with a "did you mean".
 *
 * Dependencies: the project's egress gateway and its networks are shared by every policy agent, so a
 * targeted run that includes a policy agent brings them up (create, start, recreate) and writes the
 * project's policy file (whole: it is one file for the project). It never tears them down: whether the
 * gateway is still needed is a question about the whole fleet.
 */
import { AgentctlError } from '../errors.js';
import { closest } from '../util/did-you-mean.js';
import { naturalCompare } from '../util/natural-sort.js';
import type { DesiredState, EgressAction, ImageBuild, ObservedState, Plan } from '../types.js';

/** The agent ids the targets name, or a usage error for a target that names none. */
export function resolveTargets(
  targets: readonly string[],
  desired: Pick<DesiredState, 'agents' | 'replicaOf' | 'file'>,
  observed: Pick<ObservedState, 'containers'>,
  /** A file with engines: every engine's containers are in `observed`; those not asked are named. */
  fleet?: { unreachable: readonly string[] },
): Set<string> {
  const declared = desired.agents.map((a) => a.id);
  const onEngine = observed.containers.map((c) => c.agentId);
  const known = new Set([...declared, ...onEngine]);
  const byKey = new Map<string, string[]>();
  for (const [id, key] of Object.entries(desired.replicaOf ?? {}))
    byKey.set(key, [...(byKey.get(key) ?? []), id]);
  const ids = new Set<string>();
  for (const t of targets) {
    if (known.has(t)) ids.add(t);
    else if (byKey.has(t)) for (const id of byKey.get(t) ?? []) ids.add(id);
    else {
      const suggestion = closest(t, [...known, ...byKey.keys()]);
      const where = fleet ? 'on any engine of it' : 'on the engine';
      // An undeclared agent may be on an engine that did not answer: say which were not looked at.
      const blind = fleet?.unreachable.length
        ? [`not looked at: engine ${fleet.unreachable.join(', ')} could not be reached`]
        : [];
      throw new AgentctlError(
        'usage',
        `target ${t}: no agent "${t}" in ${desired.file} or ${where}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        {
          details: [
            `agents: ${[...new Set([...byKey.keys(), ...known])].sort(naturalCompare).join(', ') || '(none)'}`,
            ...blind,
          ],
        },
      );
    }
  }
  return ids;
}

const TEARDOWN: ReadonlySet<EgressAction['kind']> = new Set(['remove-gateway', 'remove-network']);

/**
 * The plan limited to the targeted agents (and the egress steps they depend on). It records `targets`
 * (as given) so that whoever shows it can say that other agents were left out.
 */
export function targetPlan(
  p: Plan,
  ids: ReadonlySet<string>,
  desired: Pick<DesiredState, 'agents'>,
  targets: readonly string[] = [...ids],
): Plan {
  const needsEgress = desired.agents.some((a) => ids.has(a.id) && a.egress);
  const egress = needsEgress ? (p.egress ?? []).filter((a) => !TEARDOWN.has(a.kind)) : [];
  const failing = p.failing?.filter((f) => ids.has(f.agentId)) ?? [];
  // A fleet plan: only the targets' moves, and only the engines not reached that hold a target (one
  // holding none leaves nothing of the targeted run unknown).
  const migrations = p.migrations?.filter((m) => ids.has(m.agentId)) ?? [];
  const unreachable = (p.unreachable ?? []).flatMap((u) => {
    const agents = u.agents.filter((id) => ids.has(id));
    return agents.length > 0 ? [{ ...u, agents }] : [];
  });
  const adopted = p.adopted?.filter((a) => ids.has(a.agentId)) ?? [];
  const {
    egress: _egress,
    failing: _failing,
    migrations: _migrations,
    unreachable: _unreachable,
    adopted: _adopted,
    ...rest
  } = p;
  return {
    ...rest,
    actions: p.actions.filter((a) => ids.has(a.agentId)),
    unchanged: p.unchanged.filter((id) => ids.has(id)),
    conflicts: p.conflicts.filter((c) => ids.has(c.agentId)),
    ...(failing.length > 0 && { failing }),
    ...(adopted.length > 0 && { adopted }),
    ...(egress.length > 0 && { egress }),
    ...(migrations.length > 0 && { migrations }),
    ...(unreachable.length > 0 && { unreachable }),
    targets: [...new Set(targets)],
  };
}

/** Only the builds a targeted agent uses. */
export function targetBuilds<B extends ImageBuild>(builds: B[], ids: ReadonlySet<string>): B[] {
  return builds.filter((b) => b.agents.some((a) => ids.has(a)));
}
