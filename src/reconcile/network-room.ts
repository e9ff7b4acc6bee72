/**
 * Room on a network for the agents a run starts: a bridge network's Linux bridge holds at most 1023
 * ports (one per container attached), and its IPAM pools give each attached container one IPv4
 * address. Both are counts the engine reports, not estimates: agents past them fail at their start
 * ("exchange full", "no available IPv4 addresses on this network's address pools") however the run is
 * ordered. So preflight refuses the run before anything is created (a watch withholds the excess
 * agents), unlike the host-wide limits of host-limits.ts, which are estimates and only warned about.
 * Pure: the network's info is read by the caller.
 */
import type { IPv4Pool, NetworkInfo } from '../docker/port.js';
import { ipv4ToInt } from '../egress/rules.js';
import type { Action, AgentSpec, DesiredState } from '../types.js';
import type { RunProblem } from './guards.js';
import { someOf } from '../render/some-of.js';

/**
 * A Linux bridge's port numbers are 10 bits (BR_MAX_PORTS, 1024) and port 0 is reserved, so it holds
 * 1023 ports: measured, docker0 refused its 1024th container with "exchange full".
 */
export const BRIDGE_MAX_PORTS = 1023;

function parseCidr(text: string): { base: number; size: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
  const ip = ipv4ToInt(m?.[1] ?? '');
  const bits = Number(m?.[2]);
  if (ip === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), size };
}

/**
 * The addresses containers can be given from a network's IPv4 pools: each subnet's addresses (or its
 * IPRange's, when it narrows the pool) less the subnet's network and broadcast addresses, its gateway
 * (the bridge's own address; a bridge network always has one, so one is counted when the config names
 * none) and its auxiliary addresses. Undefined when there is no IPv4 pool to judge (IPv6 only, no IPAM
 * info, a subnet that does not parse): the check is then skipped.
 */
export function usableIPv4Addresses(pools: readonly IPv4Pool[]): number | undefined {
  let total = 0;
  let judged = false;
  for (const pool of pools) {
    const subnet = parseCidr(pool.subnet);
    if (!subnet) continue;
    const range = pool.ipRange === undefined ? subnet : parseCidr(pool.ipRange);
    if (!range) continue;
    judged = true;
    const lo = Math.max(range.base, subnet.base);
    const hi = Math.min(range.base + range.size, subnet.base + subnet.size) - 1;
    if (hi < lo) continue;
    const inRange = (ip: number | undefined): ip is number => ip !== undefined && ip >= lo && ip <= hi;
    const taken = new Set(
      [subnet.base, subnet.base + subnet.size - 1, pool.gateway, ...(pool.reserved ?? [])]
        .map((ip) => (typeof ip === 'string' ? ipv4ToInt(ip) : ip))
        .filter(inRange),
    );
    const unnamedGateway = pool.gateway === undefined ? 1 : 0;
    total += Math.max(0, hi - lo + 1 - taken.size - unnamedGateway);
  }
  return judged ? total : undefined;
}

/** A network the run's agents take room on, as its engine reports it. */
export interface NetworkRoom {
  network: string;
  info: Pick<NetworkInfo, 'attached' | 'bridge' | 'ipv4Pools'>;
}

/**
 * The agents each action makes take room on a network (an address, a bridge port): a created or
 * recreated agent that will run, a stopped one started. A recreate's old container is removed before
 * its replacement starts, and a stop or removal frees its room, so those attached now are counted as
 * freed: what is refused cannot fit even after every removal of the run.
 */
function roomChanges(
  desired: DesiredState,
  actions: readonly Action[],
): { taking: AgentSpec[]; freeing: Set<string> } {
  const byId = new Map(desired.agents.map((a) => [a.id, a]));
  const taking: AgentSpec[] = [];
  const freeing = new Set<string>();
  for (const a of actions) {
    if (a.kind === 'create' || a.kind === 'recreate') {
      if (a.spec.state === 'running') taking.push(a.spec);
    } else if (a.kind === 'start') {
      const spec = byId.get(a.agentId);
      if (spec) taking.push(spec);
    }
    if (a.kind === 'recreate' || a.kind === 'stop' || a.kind === 'remove') freeing.add(a.containerId);
  }
  return { taking, freeing };
}

/** The networks the run's agents take room on (the host's, none and another container's take none). */
export function roomNetworks(desired: DesiredState, actions: readonly Action[]): string[] {
  const networks = new Set(roomChanges(desired, actions).taking.map((a) => a.network));
  return [...networks].filter((n) => n !== 'none' && n !== 'host' && !n.startsWith('container:'));
}

/** Container ids as the engine gives them (full) or as a list row may (short): a prefix matches. */
function sameContainer(a: string, b: string): boolean {
  return a.length > 0 && b.length > 0 && (a.startsWith(b) || b.startsWith(a));
}

/** What the run's agents cannot get on each network: one problem per network and limit. */
export function networkRoomProblems(
  desired: DesiredState,
  actions: readonly Action[],
  rooms: readonly NetworkRoom[],
): RunProblem[] {
  const { taking, freeing } = roomChanges(desired, actions);
  const freed = [...freeing];
  // Exact ids first: a prefix is looked for only for an id that is not one of the freed as given.
  const isFreed = (id: string) => freeing.has(id) || freed.some((f) => sameContainer(f, id));
  const out: RunProblem[] = [];
  for (const { network, info } of rooms) {
    const more = taking.filter((a) => a.network === network);
    if (more.length === 0) continue;
    const attached = info.attached ?? [];
    const staying = attached.filter((id) => !isFreed(id)).length;
    const limits: { capacity: number | undefined; text: (capacity: number, past: string) => string }[] = [
      {
        capacity: info.bridge === undefined ? undefined : BRIDGE_MAX_PORTS,
        text: (_capacity, past) =>
          `network ${network}: its Linux bridge ${info.bridge ?? ''} has ${staying} port(s) taken and holds ${BRIDGE_MAX_PORTS}; ${more.length} more agent(s) on it leave ${past} without one: their start would fail ("exchange full"). Put agents on networks of their own (network: NAME, docker network create NAME) or network: none`,
      },
      {
        capacity: info.ipv4Pools === undefined ? undefined : usableIPv4Addresses(info.ipv4Pools),
        text: (capacity, past) =>
          `network ${network}: its IPv4 pool (${poolsText(info.ipv4Pools ?? [])}) gives containers ${capacity} address(es), ${staying} taken; ${more.length} more agent(s) on it leave ${past} without one: their start would fail ("no available IPv4 addresses"). Give the network a bigger subnet (docker network create with a larger subnet), the engine bigger pools (its bip for the default bridge, default-address-pools for new networks) or put agents on another network`,
      },
    ];
    for (const limit of limits) {
      if (limit.capacity === undefined) continue;
      const free = Math.max(0, limit.capacity - staying);
      if (more.length <= free) continue;
      // The agents past the room: a watch withholds them and starts the rest.
      const past = more.slice(free).map((a) => a.id);
      out.push({ message: limit.text(limit.capacity, `${past.length} (${someOf(past)})`), agents: past });
    }
  }
  return out;
}

function poolsText(pools: readonly IPv4Pool[]): string {
  return pools.map((p) => (p.ipRange ? `${p.subnet} range ${p.ipRange}` : p.subnet)).join(', ');
}
