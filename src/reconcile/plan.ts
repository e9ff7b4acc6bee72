/**
 * The planner: a pure, synchronous function from (desired, observed) to a Plan. It makes every decision;
 * the executor only carries the plan out. Same inputs, same plan, same order.
 */
import { createdSpec } from '../labels.js';
import { hashedPart, specHash } from '../spec-hash.js';
import type {
  Action,
  AgentSpec,
  BrokenKind,
  Conflict,
  DesiredState,
  FieldChange,
  HealthProbe,
  LiveLimits,
  ObservedContainer,
  ObservedState,
  Plan,
} from '../types.js';
import { fieldChanges } from './field-diff.js';
import { planEgress } from '../egress/plan.js';
import { attributeOwners, foreignFileOf, type TakeOver } from './file-owner.js';
import { naturalCompare } from '../util/natural-sort.js';

export interface PlanOptions {
  /** Remove containers of agents that are no longer in the file (default true). */
  prune?: boolean;
  /**
   * Agents another file (still there) created that this run may change (see takeOver in file-owner.ts):
   * `changed` (apply's allowForeignChange) makes each such agent's change a recreate, so that its new
   * container records this file; `all` (createAgent's adopt) recreates every such declared agent, changed
   * or not. Without it their changes are planned as usual and marked for the guard to refuse.
   */
  takeOver?: TakeOver;
}

export function plan(desired: DesiredState, observed: ObservedState, opts: PlanOptions = {}): Plan {
  const prune = opts.prune ?? true;
  const byAgent = groupByAgent(observed.containers);
  const wanted = new Map(desired.agents.map((a) => [a.id, a]));
  const agentIds = [...new Set([...wanted.keys(), ...byAgent.keys()])].sort(naturalCompare);

  const actions: Action[] = [];
  const unchanged: string[] = [];
  for (const id of agentIds) {
    const spec = wanted.get(id);
    const containers = byAgent.get(id) ?? [];
    const steps = spec
      ? planAgent(spec, containers, desired, observed, opts.takeOver)
      : prune
        ? containers.map((c) => removal(c, `agent is no longer in ${shortFile(desired.file)}`))
        : // Without pruning, leftovers of an interrupted recreate still go: they are never an agent.
          containers.filter((c) => c.temporary).map((c) => removal(c, LEFTOVER));
    if (spec && steps.length === 0) unchanged.push(id);
    actions.push(...steps);
  }
  const withEgress = planEgress(desired, observed, actions, unchanged, prune);
  // After egress: its in-place rule updates change agents too.
  const owned = attributeOwners(withEgress.actions, desired, observed);
  const failing = withEgress.unchanged.flatMap((id) => {
    const c = (byAgent.get(id) ?? []).find((x) => !x.temporary);
    const message = c && wanted.get(id)?.state === 'running' ? unwell(c) : undefined;
    if (!c || !message) return [];
    return [
      { agentId: id, message, ...(c.health === 'unhealthy' && c.lastProbe && { lastProbe: c.lastProbe }) },
    ];
  });
  return {
    project: desired.project,
    actions: owned.actions,
    unchanged: withEgress.unchanged,
    conflicts: conflicts(desired.agents, withEgress.actions, observed),
    ...(failing.length > 0 ? { failing } : {}),
    ...(owned.adopted.length > 0 ? { adopted: owned.adopted } : {}),
    ...(withEgress.egress.length > 0 && { egress: withEgress.egress }),
  };
}

/**
 * What is wrong with a container that should be running and that the plan leaves alone, if anything.
 * A restarting container counts as running for the plan (the engine's restart policy is at work, and
 * apply must not fight it), so this is where a crash loop shows.
 */
export function unwell(c: ObservedContainer): string | undefined {
  const restarts = c.restartCount ?? 0;
  // A running container's exit code is 0 whatever the last run's was: only between runs is it known.
  const exit = c.exitCode !== undefined && c.state !== 'running' ? `, last exit code ${c.exitCode}` : '';
  if (c.state === 'restarting' || (restarts > 0 && c.state === 'running'))
    return `restart-looping (restarted ${restarts} time(s)${exit})`;
  if (c.health === 'unhealthy') return `unhealthy (its healthcheck fails${probeText(c.lastProbe)})`;
  return undefined;
}

/** `: exit 1, "curl: connection refused"`: the last probe, its output cut to one short line. */
export function probeText(p: HealthProbe | undefined): string {
  if (!p) return '';
  const line =
    p.output
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  const shown = line.length > 120 ? `${line.slice(0, 117)}...` : line;
  // The engine reports a probe it killed at its timeout as exit -1.
  const how = p.exitCode === -1 ? 'timed out or could not start' : `exit ${p.exitCode}`;
  return `: ${how}${shown ? `, ${JSON.stringify(shown)}` : ''}`;
}

const LEFTOVER = 'leftover replacement from an interrupted recreate';

function planAgent(
  spec: AgentSpec,
  containers: ObservedContainer[],
  desired: DesiredState,
  observed: ObservedState,
  takeOver: TakeOver | undefined,
): Action[] {
  const current = pickCurrent(spec, containers);
  const extras = containers
    .filter((c) => c !== current)
    .map((c) => removal(c, c.temporary ? LEFTOVER : 'a second container for the same agent'));
  if (!current)
    return [...extras, { kind: 'create', agentId: spec.id, spec, cause: 'no container for this agent' }];
  const steps = stepsFor(spec, current, observed);
  const file = takeOver && foreignFileOf(current, desired, observed);
  if (file === undefined || (steps.length === 0 && takeOver === 'changed')) return [...extras, ...steps];
  return [...extras, takenOver(spec, current, steps, file, desired)];
}

/**
 * An agent another file (still there) created, taken over: a container's labels are fixed when it is
 * made, so only a new container records this file (or, from code, none) as the agent's. Its own steps
 * (update, start, stop, unpause), or none (TakeOver `all`), become one recreate, data kept; removals of
 * its extra containers stay. (An egress rules change alone stays in place, as it always does: it takes
 * nothing over.) attributeOwners marks what is left of the other file's afterwards.
 */
function takenOver(
  spec: AgentSpec,
  current: ObservedContainer,
  steps: Action[],
  file: string,
  desired: DesiredState,
): Action {
  const owner = desired.realFile !== undefined ? 'this file' : 'no file';
  const why = `taken over from ${file}: a new container records ${owner} as its owner, data kept`;
  const [first] = steps;
  if (first?.kind === 'recreate') return { ...first, cause: `${first.cause}; ${why}` };
  const changes = first?.kind === 'update' ? first.changes : [];
  return recreation(spec, current, changes, first ? `${first.cause}; ${why}` : why);
}

/** The steps that bring the agent's current container to its spec (none when it matches). */
function stepsFor(spec: AgentSpec, current: ObservedContainer, observed: ObservedState): Action[] {
  const steps: Action[] = [];
  const broken = brokenKind(spec, current);
  const recreateCause = whyRecreate(spec, current, observed);
  if (recreateCause || broken) {
    const causes = [broken ? brokenCause(broken, current) : undefined, recreateCause?.cause].filter(Boolean);
    steps.push(recreation(spec, current, recreateCause?.changes ?? [], causes.join('; '), broken));
    return steps;
  }

  const limitChanges = current.limits ? liveChanges(current.limits, spec) : [];
  if (limitChanges.length > 0 && current.noLiveUpdate !== undefined) {
    // Updating in place would fail every time and leave the agent drifting forever: recreate it.
    const cause = `${limitChanges.map((c) => c.path).join(', ')} differ from the file, and ${current.noLiveUpdate}`;
    steps.push(recreation(spec, current, limitChanges, cause));
    return steps;
  }
  if (limitChanges.length > 0) {
    steps.push({
      kind: 'update',
      agentId: spec.id,
      containerId: current.id,
      name: current.name,
      spec,
      changes: limitChanges,
      cause: `${limitChanges.map((c) => c.path).join(', ')} differ from the file`,
    });
  }
  const running = current.state === 'running' || current.state === 'restarting';
  const ref = { agentId: spec.id, containerId: current.id, name: current.name };
  if (spec.state === 'running' && current.state === 'paused') {
    // The engine refuses to start a paused container: it has to be unpaused.
    steps.push({ kind: 'unpause', ...ref, cause: 'container is paused, file wants it running' });
  } else if (spec.state === 'running' && !running) {
    steps.push({ kind: 'start', ...ref, cause: `container is ${current.state}, file wants it running` });
  } else if (spec.state === 'stopped' && running) {
    steps.push({ kind: 'stop', ...ref, cause: 'file wants it stopped' });
  }
  return steps;
}

/** What the engine reports as StartedAt for a container that never started. */
const NEVER = '0001-01-01T00:00:00Z';

/** The one recreate action, whatever calls for it (a hashed change, a broken container, no live update). */
function recreation(
  spec: AgentSpec,
  current: ObservedContainer,
  changes: FieldChange[],
  cause: string,
  broken?: BrokenKind,
): Action {
  return {
    kind: 'recreate',
    agentId: spec.id,
    containerId: current.id,
    name: current.name,
    spec,
    changes,
    cause,
    ...(broken ? { broken } : {}),
  };
}

function brokenCause(kind: BrokenKind, c: ObservedContainer): string {
  return kind === 'never-started'
    ? `container was created but never started, and its last start failed (${c.startError}); after an engine crash every start may fail, so it is made anew, data kept`
    : 'engine lists the container running but it never started (left so by an engine crash; nothing runs in it); made anew, data kept';
}

/**
 * A container only a new one can repair (see BrokenKind). One that never started holds nothing (its data
 * is the working directory), so a new one costs only a create. A created container whose start has not
 * failed is started, as usual: if an engine crash left its task behind, that start fails, and the next
 * run makes it anew.
 */
function brokenKind(spec: AgentSpec, c: ObservedContainer): BrokenKind | undefined {
  if (c.state === 'created' && spec.state === 'running' && c.startError) return 'never-started';
  if (c.state === 'running' && c.startedAt !== undefined && c.startedAt.startsWith(NEVER))
    return 'phantom-running';
  return undefined;
}

/** The container that stands for the agent: the one with its name, else a non-leftover one. */
function pickCurrent(spec: AgentSpec, containers: ObservedContainer[]): ObservedContainer | undefined {
  return containers.find((c) => c.name === spec.name && !c.temporary) ?? containers.find((c) => !c.temporary);
}

function whyRecreate(
  spec: AgentSpec,
  c: ObservedContainer,
  observed: ObservedState,
): { cause: string; changes: FieldChange[] } | undefined {
  if (c.state === 'dead' || c.state === 'removing') return { cause: `container is ${c.state}`, changes: [] };
  const reasons: string[] = [];
  let changes: FieldChange[] = [];
  if (c.specHash !== specHash(spec)) {
    const created = createdSpec(c.labels);
    changes = created ? fieldChanges(created, hashedPart(spec) as unknown as Record<string, unknown>) : [];
    reasons.push(
      changes.length > 0
        ? `changed: ${changes.map((ch) => ch.path).join(', ')}`
        : 'created from a different spec (or by an older agentctl)',
    );
    if (changes.some((ch) => ch.path === 'healthcheck' || ch.path.startsWith('healthcheck.')))
      reasons.push('the engine cannot change a healthcheck in place, so a new container is made, data kept');
  }
  const imageId = observed.images[spec.image];
  // Only when the image is present: a missing image is a preflight error, not a reason to recreate.
  if (imageId && imageId !== c.imageId) {
    reasons.push(`image ${spec.image} now points to ${short(imageId)} (container has ${short(c.imageId)})`);
    changes = [...changes, { path: 'image id', before: c.imageId, after: imageId }];
  }
  return reasons.length > 0 ? { cause: reasons.join('; '), changes } : undefined;
}

function liveChanges(live: LiveLimits, spec: AgentSpec): FieldChange[] {
  const pairs: [string, unknown, unknown][] = [
    ['cpus', live.nanoCpus, spec.nanoCpus],
    ['memory', live.memoryBytes, spec.memoryBytes],
    ['pids', live.pids, spec.pids],
    ['restart', live.restart, spec.restart],
  ];
  return pairs
    .filter(([, before, after]) => before !== after)
    .map(([path, before, after]) => ({ path, before, after }));
}

function removal(c: ObservedContainer, cause: string): Action {
  return { kind: 'remove', agentId: c.agentId, containerId: c.id, name: c.name, cause };
}

/** Agents that need their name while a container we do not own holds it. */
function conflicts(agents: AgentSpec[], actions: Action[], observed: ObservedState): Conflict[] {
  const foreignByName = new Map(observed.foreign.map((f) => [f.name, f]));
  const needsName = new Set(
    actions.filter((a) => a.kind === 'create' || a.kind === 'recreate').map((a) => a.agentId),
  );
  const out: Conflict[] = [];
  for (const a of agents) {
    const f = foreignByName.get(a.name);
    if (!f || !needsName.has(a.id)) continue;
    out.push({
      agentId: a.id,
      name: a.name,
      containerId: f.id,
      message: f.owner
        ? `container name "${a.name}" is taken by container ${short(f.id)}, agent "${f.owner.agent}" of another agentctl project, "${f.owner.project}" (container names are per engine, and both use the same namePrefix); give one of the projects its own namePrefix (e.g. \`namePrefix: ${observed.project}-\` in this file), or remove that agent from project "${f.owner.project}"`
        : `container name "${a.name}" is taken by container ${short(f.id)}, which is not an agentctl agent; rename or remove it, or set namePrefix`,
    });
  }
  return out;
}

function groupByAgent(containers: ObservedContainer[]): Map<string, ObservedContainer[]> {
  const m = new Map<string, ObservedContainer[]>();
  for (const c of containers) m.set(c.agentId, [...(m.get(c.agentId) ?? []), c]);
  return m;
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function shortFile(file: string): string {
  return file.split('/').pop() ?? file;
}
