/** Names the egress pieces share: the config layer, the planner, the executor and the gateway image. */

/** The internal network of a project's policy agents: no route anywhere but to the gateway. */
export function egressNetworkName(project: string): string {
  return `agentctl-egress-${project}`;
}

/** The gateway's outbound network (a normal bridge): its only way out, and the agents' only way too. */
export function outboundNetworkName(project: string): string {
  return `agentctl-egress-out-${project}`;
}

export function gatewayContainerName(project: string): string {
  return `agentctl-egress-gateway-${project}`;
}

/** The gateway's name on the internal network (Docker's embedded DNS answers it without forwarding). */
export const GATEWAY_HOST = 'agentctl-egress-gateway';
export const GATEWAY_PORT = 3128;
const PROXY_URL = `http://${GATEWAY_HOST}:${GATEWAY_PORT}`;

/** What a policy agent's environment gets, so that ordinary tools use the gateway unchanged. */
export const PROXY_ENV: Readonly<Record<string, string>> = {
  HTTP_PROXY: PROXY_URL,
  HTTPS_PROXY: PROXY_URL,
  http_proxy: PROXY_URL,
  https_proxy: PROXY_URL,
  NO_PROXY: 'localhost,127.0.0.1',
  no_proxy: 'localhost,127.0.0.1',
};

/**
 * The resolver agents on the internal network are given: an address that is never routed (TEST-NET-1).
 * Docker's embedded DNS forwards names it does not know to the configured servers; a non-loopback server
 * is queried from the agent's own network namespace, which has no route, so a name lookup can never
 * carry data out (Docker before 23.0.11/25.0.4 forwards from the host for a loopback server:
 * CVE-2024-29018). Agents need no DNS of their own: the gateway resolves the names it lets through.
 */
export const UNROUTABLE_DNS = '192.0.2.1';

/** Label on the gateway container (its value: the project) and on the networks agentctl makes. */
export const GATEWAY_LABEL = 'agentctl.egress-gateway';
export const NETWORK_LABEL = 'agentctl.egress-network';
