/**
 * Observe: read the engine once into an ObservedState. One list call for the project's containers,
 * inspects for the limits `docker update` can change behind our back, one lookup per distinct image,
 * and a by-name lookup only for names we do not own yet (to report clashes with foreign containers).
 */
import { LABEL } from '../labels.js';
import type { ContainerDetails, ContainerSummary, DockerPort } from '../docker/port.js';
import type { DesiredState, ObservedContainer, ObservedState } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { GATEWAY_LABEL, egressNetworkName } from '../egress/names.js';
import { observeEgress } from '../egress/observe.js';
import { naturalCompare } from '../util/natural-sort.js';
import { existsSync } from 'node:fs';

const INSPECT_CONCURRENCY = 16;

export interface ObserveOptions {
  /** Inspect every container, not just those the planner compares limits of (for `ps`). */
  inspectAll?: boolean;
  /** How to inspect a container (default: ask the engine); the watcher answers from its InspectCache. */
  inspect?: (id: string) => Promise<ContainerDetails | undefined>;
  /**
   * List only these agents' containers (one list call each, by their agent label) instead of the
   * project's: the watcher's run for a saved change of a few agents. At 1000 agents the project's list
   * is the largest part of such a run; one agent's is a few milliseconds.
   */
  agents?: readonly string[];
}

export async function observe(
  port: DockerPort,
  desired: DesiredState,
  opts: ObserveOptions = {},
): Promise<ObservedState> {
  const imageRefs = [...new Set(desired.agents.map((a) => a.image))].sort();
  // Asked alongside the list: they need nothing from it.
  const imageIdsP = Promise.all(imageRefs.map(async (ref) => (await port.inspectImage(ref))?.id ?? null));
  imageIdsP.catch(() => undefined);
  const all = await listOf(port, desired.project, opts.agents);
  // The egress gateway carries the project's label (so watch sees its events and down removes it) but
  // is not an agent.
  const gateway = all.find((s) => s.labels[GATEWAY_LABEL] !== undefined);
  const summaries = all.filter((s) => s.labels[GATEWAY_LABEL] === undefined);
  const withEgress = gateway !== undefined || desired.agents.some((a) => a.egress);
  const ownedNames = new Set(summaries.map((s) => s.name));
  const unclaimedNames = desired.agents.map((a) => a.name).filter((n) => !ownedNames.has(n));
  const declared = new Set(desired.agents.map((a) => a.id));
  // Limits matter only for containers that stay: the rest are removed whatever their limits are.
  const needsInspect = (s: ContainerSummary) =>
    opts.inspectAll ||
    withEgress ||
    (declared.has(s.labels[LABEL.agent] ?? '') && s.labels[LABEL.name] === s.name);

  const otherFiles = otherFilesOf(summaries, desired.realFile);
  const egressNet = egressNetworkName(desired.project);
  const inspect = opts.inspect ?? ((id: string) => port.inspectContainer(id));
  const [containers, foreign, imageIds, egress] = await Promise.all([
    mapLimit(summaries, INSPECT_CONCURRENCY, (s) => toObserved(inspect, s, needsInspect(s), egressNet)),
    port.listContainersByName(unclaimedNames),
    imageIdsP,
    withEgress ? observeEgress(port, desired, gateway) : undefined,
  ]);

  return {
    project: desired.project,
    containers: containers
      .filter((c): c is ObservedContainer => c !== undefined)
      .sort((a, b) => naturalCompare(a.agentId, b.agentId) || naturalCompare(a.name, b.name)),
    images: Object.fromEntries(imageRefs.map((ref, i) => [ref, imageIds[i] ?? null])),
    foreign: foreign
      .filter((c) => c.labels[LABEL.project] !== desired.project)
      .map((c) => {
        const project = c.labels[LABEL.project];
        const agent = c.labels[LABEL.agent];
        return { id: c.id, name: c.name, ...(project && agent ? { owner: { project, agent } } : {}) };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    ...(Object.keys(otherFiles).length > 0 && { otherFiles }),
    ...(egress && { egress }),
  };
}

/** The project's containers, or only those of `agents` (one container may carry only one agent label). */
async function listOf(
  port: DockerPort,
  project: string,
  agents: readonly string[] | undefined,
): Promise<ContainerSummary[]> {
  if (!agents) return port.listContainers({ [LABEL.project]: project });
  const lists = await Promise.all(
    [...new Set(agents)].map((agent) =>
      port.listContainers({ [LABEL.project]: project, [LABEL.agent]: agent }),
    ),
  );
  return lists.flat();
}

/** The other files the containers' labels name, and whether each still exists (a moved file does not). */
function otherFilesOf(summaries: ContainerSummary[], realFile: string | undefined): Record<string, boolean> {
  const files = new Set(summaries.map((s) => s.labels[LABEL.file]));
  files.delete(undefined);
  files.delete(realFile);
  return Object.fromEntries([...files].sort().map((f) => [f, existsSync(f as string)]));
}

async function toObserved(
  inspectContainer: (id: string) => Promise<ContainerDetails | undefined>,
  s: ContainerSummary,
  inspect: boolean,
  egressNet: string,
): Promise<ObservedContainer | undefined> {
  const details = inspect ? await inspectContainer(s.id) : undefined;
  // Removed between list and inspect: it is gone, which is what the planner should see.
  if (inspect && !details) return undefined;
  return {
    id: s.id,
    name: s.name,
    agentId: s.labels[LABEL.agent] ?? '',
    state: details?.state ?? s.state,
    image: s.image,
    imageId: s.imageId,
    specHash: s.labels[LABEL.specHash],
    temporary: s.labels[LABEL.name] !== undefined && s.labels[LABEL.name] !== s.name,
    limits: details?.limits,
    noLiveUpdate: details?.noLiveUpdate,
    labels: s.labels,
    createdAt: s.createdAt,
    startedAt: details?.startedAt,
    ...(details?.error ? { startError: details.error } : {}),
    ...(details?.restartCount !== undefined ? { restartCount: details.restartCount } : {}),
    ...(details?.exitCode !== undefined ? { exitCode: details.exitCode } : {}),
    ...(details?.health ? { health: details.health } : {}),
    ...(details?.lastProbe ? { lastProbe: details.lastProbe } : {}),
    ...(details?.networks?.[egressNet] !== undefined && { egressAddress: details.networks[egressNet] }),
  };
}
