/**
 * The gateway image: agentctl's bundled proxy (dist/egress-gateway.mjs) on node, FROM scratch (see
 * src/docker/node-image.ts). A new node or a new proxy is a new tag, and the planner recreates the
 * gateway.
 */
import { bundledProgramPath, buildNodeImage, IMAGE_NODE, nodeImageTag } from '../docker/node-image.js';
import type { DockerPort } from '../docker/port.js';

export const GATEWAY_IMAGE_REPO = 'agentctl-egress-gateway';
const SCRIPT = 'egress-gateway.mjs';

function gatewayProgram(): string {
  return bundledProgramPath(SCRIPT, 'the egress gateway program');
}

/** The tag of the image this agentctl would build (cheap after the first call). */
export function gatewayImageTag(): string {
  return nodeImageTag(GATEWAY_IMAGE_REPO, gatewayProgram());
}

/** Builds the image unless it is there already; resolves to its tag. */
export async function ensureGatewayImage(
  port: DockerPort,
  onOutput: (line: string) => void = () => undefined,
): Promise<string> {
  const tag = gatewayImageTag();
  if (await port.inspectImage(tag)) return tag;
  await buildNodeImage(
    port,
    {
      tag,
      program: gatewayProgram(),
      programTarget: `/gateway/${SCRIPT}`,
      dirs: ['policy', 'tmp'],
      dockerfileTail: [
        `LABEL org.opencontainers.image.title="agentctl egress gateway" agentctl.egress-gateway-image="${tag}"`,
        'USER 65534:65534',
        `ENTRYPOINT ["${IMAGE_NODE}", "/gateway/${SCRIPT}"]`,
      ],
    },
    onOutput,
  );
  return tag;
}
