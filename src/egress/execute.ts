/**
 * Carries out the egress steps of a plan, in order, deciding nothing. The gateway is hardened like an
 * agent (read-only root, every capability dropped, no-new-privileges, an unprivileged user, bounded
 * memory, processes and logs) and adds nothing to any agent: agents only lose routes.
 */
import type { CreateContainerBody, DockerPort } from '../docker/port.js';
import { toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import type { EgressAction, EgressResult, GatewaySpec } from '../types.js';
import { GATEWAY_SLOT, slotAddress } from './address.js';
import {
  egressNetworkName,
  outboundNetworkName,
  GATEWAY_HOST,
  GATEWAY_LABEL,
  GATEWAY_PORT,
  NETWORK_LABEL,
} from './names.js';
import { gatewayHash, gatewaySpec } from './plan.js';
import { writePolicy } from './policy-file.js';

export interface EgressExecuteOptions {
  project: string;
  runtimeDir: string;
  onProgress?: (e: { type: 'begin'; action: EgressAction } | { type: 'end'; result: EgressResult }) => void;
}

export async function executeEgress(
  actions: readonly EgressAction[],
  port: DockerPort,
  opts: EgressExecuteOptions,
): Promise<EgressResult[]> {
  const results: EgressResult[] = [];
  for (const action of actions) {
    opts.onProgress?.({ type: 'begin', action });
    const started = performance.now();
    let result: EgressResult;
    try {
      await perform(action, port, opts);
      result = { action, ok: true, durationMs: performance.now() - started };
    } catch (err) {
      result = {
        action,
        ok: false,
        error: toAgentctlError(err).message,
        durationMs: performance.now() - started,
      };
    }
    opts.onProgress?.({ type: 'end', result });
    results.push(result);
  }
  return results;
}

/** The fixed address of `slot` on the project's internal egress network. */
export async function egressAddress(port: DockerPort, network: string, slot: number): Promise<string> {
  const subnet = (await port.inspectNetwork(network))?.subnet;
  if (!subnet) throw new Error(`the egress network ${network} does not exist or has no IPv4 subnet`);
  return slotAddress(subnet, slot);
}

async function perform(action: EgressAction, port: DockerPort, opts: EgressExecuteOptions): Promise<void> {
  switch (action.kind) {
    case 'create-network':
      await createNetwork(port, action, opts.project);
      return;
    case 'write-policy':
      await writePolicy(
        opts.runtimeDir,
        opts.project,
        gatewaySpec(opts, '').policyDir,
        action.policy,
        await networkSubnet(port, opts.project),
      );
      return;
    case 'create-gateway':
      await createGateway(port, action.gateway, opts.project);
      return;
    case 'recreate-gateway':
      // Its fixed address is taken until the old one is gone: remove first (agents are without a way out
      // for that moment, which fails closed).
      await port.removeContainer(action.containerId);
      await createGateway(port, action.gateway, opts.project);
      return;
    case 'start-gateway':
      await port.startContainer(action.containerId);
      return;
    case 'remove-gateway':
      await port.removeContainer(action.containerId);
      return;
    case 'remove-network':
      await port.removeNetwork(action.network);
      return;
  }
}

const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';

async function createNetwork(
  port: DockerPort,
  action: Extract<EgressAction, { kind: 'create-network' }>,
  project: string,
): Promise<void> {
  const labels = { [NETWORK_LABEL]: project };
  if (!action.subnets) {
    await port.createNetwork({ name: action.network, internal: action.internal, labels });
    return;
  }
  let last: unknown;
  for (const subnet of action.subnets) {
    try {
      await port.createNetwork({
        name: action.network,
        internal: action.internal,
        subnet,
        labels,
        // No address for the host on this bridge: an agent can reach the gateway and nothing else, not
        // even a service of the host listening on all addresses (internal networks alone allow that).
        options: { [INHIBIT_IPV4]: 'true' },
      });
      return;
    } catch (err) {
      // Taken by another network on this engine: the plan's next candidate.
      if (!/overlap/i.test((err as Error).message)) throw err;
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error(`no free subnet for ${action.network}`);
}

async function networkSubnet(port: DockerPort, project: string): Promise<string> {
  const subnet = (await port.inspectNetwork(egressNetworkName(project)))?.subnet;
  if (!subnet) throw new Error(`the egress network ${egressNetworkName(project)} has no IPv4 subnet`);
  return subnet;
}

export function gatewayBody(project: string, g: GatewaySpec, address: string): CreateContainerBody {
  return {
    Image: g.image,
    Env: [`AGENTCTL_EGRESS_POLICY=/policy/policy.json`, `AGENTCTL_EGRESS_PORT=${GATEWAY_PORT}`],
    User: '65534:65534',
    WorkingDir: '/',
    Labels: {
      [LABEL.project]: project,
      [GATEWAY_LABEL]: project,
      [LABEL.name]: g.name,
      [LABEL.specHash]: gatewayHash(g),
    },
    HostConfig: {
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      NanoCpus: 1e9,
      PidsLimit: 64,
      Ulimits: [{ Name: 'nofile', Soft: 8192, Hard: 8192 }],
      Tmpfs: {},
      ReadonlyRootfs: true,
      NetworkMode: g.internalNetwork,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      Init: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      Mounts: [{ Type: 'bind', Source: g.policyDir, Target: '/policy', ReadOnly: true }],
    },
    NetworkingConfig: {
      EndpointsConfig: {
        [g.internalNetwork]: { IPAMConfig: { IPv4Address: address }, Aliases: [GATEWAY_HOST] },
      },
    },
  };
}

async function createGateway(port: DockerPort, g: GatewaySpec, project: string): Promise<void> {
  const address = await egressAddress(port, g.internalNetwork, GATEWAY_SLOT);
  const id = await port.createContainer(g.name, gatewayBody(project, g, address));
  await port.connectNetwork(g.outboundNetwork, id);
  await port.startContainer(id);
}

/** `down`: the project's egress networks (only those agentctl made for it, by their label). */
export async function removeEgressNetworks(port: DockerPort, project: string): Promise<void> {
  for (const name of [egressNetworkName(project), outboundNetworkName(project)]) {
    const n = await port.inspectNetwork(name);
    if (n?.labels[NETWORK_LABEL] === project) await port.removeNetwork(name);
  }
}
