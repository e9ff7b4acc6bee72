/**
 * The egress part of the plan: pure, like the rest of the planner. Given the agents' own actions, it
 * gives policy agents their fixed addresses (slots), turns a change of an agent's rules into an in-place
 * update (the gateway's policy file changes, the container does not), and plans the gateway, its two
 * networks and the policy file: created when missing, started when stopped, recreated when made from
 * something else, removed when no agent needs them.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { projectStateDir } from '../secrets/state-dir.js';
import { canonicalJson } from '../spec-hash.js';
import type {
  Action,
  AgentSpec,
  DesiredPolicy,
  DesiredState,
  EgressAction,
  FieldChange,
  GatewaySpec,
  ObservedState,
} from '../types.js';
import { addressSlot, FIRST_AGENT_SLOT, GATEWAY_SLOT, slotCount } from './address.js';
import { egressNetworkName, gatewayContainerName, outboundNetworkName } from './names.js';

export interface EgressPlan {
  actions: Action[];
  unchanged: string[];
  egress: EgressAction[];
}

export function gatewaySpec(
  desired: Pick<DesiredState, 'project' | 'runtimeDir'>,
  image: string,
): GatewaySpec {
  return {
    name: gatewayContainerName(desired.project),
    image,
    internalNetwork: egressNetworkName(desired.project),
    outboundNetwork: outboundNetworkName(desired.project),
    policyDir: path.join(projectStateDir(desired.runtimeDir, desired.project), 'egress'),
  };
}

export function gatewayHash(g: GatewaySpec): string {
  // The hardening the executor applies is versioned here: changing it recreates the gateway.
  return createHash('sha256')
    .update(canonicalJson({ ...g, hardening: 1, slot: GATEWAY_SLOT }))
    .digest('hex');
}

export function planEgress(
  desired: DesiredState,
  observed: ObservedState,
  actions: Action[],
  unchanged: string[],
  prune: boolean,
): EgressPlan {
  const eg = observed.egress;
  const policyAgents = desired.agents.filter((a) => a.egress);
  const kept = observed.containers.filter((c) => c.egressAddress);
  const removed = new Set(actions.filter((a) => a.kind === 'remove').map((a) => a.containerId));
  const stillOnNetwork = kept.filter((c) => !removed.has(c.id));
  const needed = policyAgents.length > 0 || (!prune && stillOnNetwork.length > 0);
  if (!eg || (!needed && !eg.gateway && !eg.internal && !eg.outbound)) {
    return { actions, unchanged, egress: [] };
  }
  if (!needed) return { actions, unchanged, egress: teardown(eg, observed.project) };

  const subnet = eg.internal?.subnet;
  // Slots in use by any container on the network (a recreated agent's old container keeps its slot
  // until it is removed, so the replacement needs another one).
  const used = new Set<number>([GATEWAY_SLOT]);
  const slotOf = new Map<string, number>();
  for (const c of kept) {
    const slot = subnet ? addressSlot(subnet, c.egressAddress ?? '') : undefined;
    if (slot === undefined) continue;
    used.add(slot);
    slotOf.set(c.id, slot);
  }
  const nextSlot = (): number => {
    for (let s = FIRST_AGENT_SLOT; s < slotCount(subnet); s++) {
      if (!used.has(s)) {
        used.add(s);
        return s;
      }
    }
    throw new Error(`the egress network ${eg.internal?.name ?? ''} has no free address left`);
  };

  const entries: DesiredPolicy['entries'] = [];
  const out: Action[] = [];
  const stillUnchanged = new Set(unchanged);
  const touched = new Set<string>();
  for (const a of actions) {
    if ((a.kind === 'create' || a.kind === 'recreate') && a.spec.egress) {
      const spec: AgentSpec = { ...a.spec, egressSlot: nextSlot() };
      entries.push(entry(spec));
      touched.add(a.agentId);
      out.push({ ...a, spec });
    } else out.push(a);
  }
  // Agents that keep their container: their slot is where it is now; a rules change is in place.
  const byAgent = new Map((eg.policy ?? []).map((e) => [e.agent, e]));
  for (const spec of policyAgents) {
    if (touched.has(spec.id)) continue;
    const c = observed.containers.find((x) => x.agentId === spec.id && x.name === spec.name && !x.temporary);
    const slot = c ? slotOf.get(c.id) : undefined;
    if (slot === undefined) continue; // not on the network (yet): its create or recreate is planned
    entries.push(entry({ ...spec, egressSlot: slot }));
    const was = byAgent.get(spec.id);
    const egress = spec.egress ?? { allow: [], deny: [] };
    const changes = ruleChanges(was, egress);
    if (changes.length === 0) continue;
    stillUnchanged.delete(spec.id);
    const update = out.find((a) => a.kind === 'update' && a.agentId === spec.id);
    if (update && update.kind === 'update') {
      update.changes = [...update.changes, ...changes];
      update.cause = `${update.cause}; egress rules differ from the gateway's policy`;
    } else if (c) {
      const action: Action = {
        kind: 'update',
        agentId: spec.id,
        containerId: c.id,
        name: c.name,
        spec,
        changes,
        cause: was
          ? "egress rules differ from the gateway's policy (in place: the container is kept)"
          : "not in the gateway's policy yet",
      };
      const at = out.findIndex((a) => a.agentId > spec.id);
      if (at < 0) out.push(action);
      else out.splice(at, 0, action);
    }
  }
  entries.sort((a, b) => a.agent.localeCompare(b.agent));

  const egress: EgressAction[] = [];
  const g = gatewaySpec(desired, eg.gatewayImage);
  if (!eg.internal) {
    egress.push({
      kind: 'create-network',
      network: g.internalNetwork,
      internal: true,
      subnets: candidateSubnets(desired.project),
      cause: 'no internal egress network for the policy agents',
    });
  }
  if (!eg.outbound) {
    egress.push({
      kind: 'create-network',
      network: g.outboundNetwork,
      internal: false,
      cause: 'no outbound network for the egress gateway',
    });
  }
  const policy: DesiredPolicy = { entries, hostAddresses: [...eg.hostAddresses].sort() };
  const policyChanges = policyDiff(eg.policy, eg.policyHostAddresses, policy, subnet);
  if (policyChanges.length > 0 || !subnet) {
    egress.push({
      kind: 'write-policy',
      policy,
      changes: policyChanges,
      cause: eg.policy
        ? `policy changed: ${policyChanges.map((c) => c.path).join(', ')}`
        : 'no policy file yet',
    });
  }
  const gw = eg.gateway;
  if (!gw) {
    egress.push({
      kind: 'create-gateway',
      gateway: g,
      cause: 'no egress gateway: policy agents have no network until it runs',
    });
  } else if (
    gw.state === 'dead' ||
    gw.state === 'removing' ||
    gw.specHash !== gatewayHash(g) ||
    (eg.gatewayImageId && gw.imageId !== eg.gatewayImageId)
  ) {
    egress.push({
      kind: 'recreate-gateway',
      containerId: gw.id,
      gateway: g,
      cause:
        gw.specHash !== gatewayHash(g)
          ? 'the gateway was made from another spec or agentctl version'
          : `gateway container is ${gw.state === 'dead' || gw.state === 'removing' ? gw.state : 'from another image'}`,
    });
  } else if (gw.state !== 'running' && gw.state !== 'restarting') {
    egress.push({
      kind: 'start-gateway',
      containerId: gw.id,
      name: gw.name,
      cause: `gateway is ${gw.state}: policy agents have no network until it runs`,
    });
  }
  return { actions: out, unchanged: unchanged.filter((id) => stillUnchanged.has(id)), egress };
}

/**
 * Fixed addresses need a subnet given at creation. Candidates are /24s in 10.200.0.0-10.255.255.0,
 * starting at one derived from the project's name (so projects rarely collide) and walking on.
 */
export function candidateSubnets(project: string, count = 32): string[] {
  const h = createHash('sha256').update(project).digest().readUInt32BE(0);
  const space = 56 * 256;
  return Array.from({ length: count }, (_, i) => {
    const n = (h + i * 7919) % space;
    return `10.${200 + Math.floor(n / 256)}.${n % 256}.0/24`;
  });
}

function entry(spec: AgentSpec): DesiredPolicy['entries'][number] {
  return {
    agent: spec.id,
    slot: spec.egressSlot ?? 0,
    allow: spec.egress?.allow ?? [],
    deny: spec.egress?.deny ?? [],
  };
}

function ruleChanges(
  was: { allow: string[]; deny: string[] } | undefined,
  now: { allow: string[]; deny: string[] },
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const key of ['allow', 'deny'] as const) {
    if (JSON.stringify(was?.[key] ?? null) !== JSON.stringify(now[key])) {
      out.push({ path: `egress.${key}`, before: was?.[key], after: now[key] });
    }
  }
  return out;
}

function policyDiff(
  observed: readonly { agent: string; address: string; allow: string[]; deny: string[] }[] | undefined,
  observedHosts: readonly string[] | undefined,
  wanted: DesiredPolicy,
  subnet: string | undefined,
): FieldChange[] {
  const toKey = (e: { agent: string; slot?: number; address?: string; allow: string[]; deny: string[] }) =>
    JSON.stringify([e.agent, e.slot, e.allow, e.deny]);
  const have = new Map(
    (observed ?? []).map((e) => [
      e.agent,
      toKey({ ...e, slot: subnet ? addressSlot(subnet, e.address) : undefined }),
    ]),
  );
  const changes: FieldChange[] = [];
  const agents = new Set([...have.keys(), ...wanted.entries.map((e) => e.agent)]);
  for (const agent of [...agents].sort()) {
    const w = wanted.entries.find((e) => e.agent === agent);
    const now = w ? toKey(w) : undefined;
    if (have.get(agent) === now) continue;
    changes.push({
      path: `policy.${agent}`,
      before: have.has(agent) ? 'rules' : undefined,
      after: !w ? undefined : have.has(agent) ? 'new rules' : 'rules',
    });
  }
  // The host's addresses come and go with every Docker network created on it. Only an address the
  // gateway does not refuse yet is a change: a removed one that the policy still lists is harmless (it
  // is refused until the next rewrite), and planning a rewrite for it would keep `diff` from ever being
  // clean on a host where other projects create networks.
  const refused = new Set(observedHosts ?? []);
  const missing = wanted.hostAddresses.filter((a) => !refused.has(a));
  if (observedHosts === undefined || missing.length > 0) {
    changes.push({ path: 'policy.hostAddresses', before: observedHosts, after: wanted.hostAddresses });
  }
  return changes;
}

function teardown(eg: NonNullable<ObservedState['egress']>, project: string): EgressAction[] {
  const cause = `no agent of project "${project}" has an egress policy any more`;
  const out: EgressAction[] = [];
  if (eg.gateway)
    out.push({ kind: 'remove-gateway', containerId: eg.gateway.id, name: eg.gateway.name, cause });
  if (eg.internal) out.push({ kind: 'remove-network', network: eg.internal.name, cause });
  if (eg.outbound) out.push({ kind: 'remove-network', network: eg.outbound.name, cause });
  return out;
}
