/** Observe the project's egress pieces: its two networks, the gateway, its image and the policy file. */
import type { ContainerSummary, DockerPort } from '../docker/port.js';
import { LABEL } from '../labels.js';
import type { DesiredState, ObservedEgress } from '../types.js';
import { gatewayImageTag } from './gateway-image.js';
import { egressNetworkName, NETWORK_LABEL, outboundNetworkName } from './names.js';
import { AgentctlError } from '../errors.js';
import { gatewaySpec } from './plan.js';
import { hostAddresses } from './host-addresses.js';
import { readPolicy } from './policy-file.js';

export async function observeEgress(
  port: DockerPort,
  desired: Pick<DesiredState, 'project' | 'runtimeDir'>,
  gateway: ContainerSummary | undefined,
): Promise<ObservedEgress> {
  const image = gatewayImageTag();
  const [internal, outbound, details, imageInfo, policy] = await Promise.all([
    port.inspectNetwork(egressNetworkName(desired.project)),
    port.inspectNetwork(outboundNetworkName(desired.project)),
    gateway ? port.inspectContainer(gateway.id) : undefined,
    port.inspectImage(image),
    readPolicy(gatewaySpec(desired, image).policyDir),
  ]);
  for (const n of [internal, outbound]) {
    if (n && n.labels[NETWORK_LABEL] !== desired.project) {
      throw new AgentctlError(
        'preflight',
        `network "${n.name}" exists but was not made by agentctl for project "${desired.project}"; agentctl will not put agents with an egress policy on it (remove or rename it)`,
      );
    }
  }
  if (internal && !internal.internal) {
    throw new AgentctlError(
      'preflight',
      `network "${internal.name}" is not internal: agents with an egress policy would have a route out (remove it; apply makes it again)`,
    );
  }
  return {
    ...(internal && {
      internal: { name: internal.name, subnet: internal.subnet, internal: internal.internal },
    }),
    ...(outbound && { outbound: { name: outbound.name } }),
    ...(gateway &&
      details && {
        gateway: {
          id: gateway.id,
          name: gateway.name,
          state: details.state,
          imageId: gateway.imageId,
          specHash: gateway.labels[LABEL.specHash],
        },
      }),
    gatewayImage: image,
    gatewayImageId: imageInfo?.id ?? null,
    ...(policy && { policy: policy.entries, policyHostAddresses: policy.hostAddresses }),
    hostAddresses: hostAddresses(),
  };
}
