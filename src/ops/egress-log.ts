/**
 * `egress log`: the gateway's decisions (one JSON line each in its container log): time, agent, host,
 * port, allowed or denied, and the rule. Followed with `follow`. The log is the container's json-file
 * log (bounded like an agent's: 3 x 10 MiB), so it goes with the gateway when it is recreated.
 */
import { Demultiplexer } from '../docker/multiplex.js';
import { AgentctlError } from '../errors.js';
import { gatewayContainerName } from '../egress/names.js';
import { type OpContext, portOf } from './context.js';

export interface EgressDecision {
  time: string;
  agent: string;
  source: string;
  method: string;
  host: string;
  port: number;
  decision: 'allowed' | 'denied';
  rule: string;
  /** The address connected to, when allowed. */
  address?: string;
  /** Why, when denied. */
  reason?: string;
}

export interface EgressLogOptions extends OpContext {
  project: string;
  follow?: boolean;
  /** Only this agent's decisions. */
  agent?: string;
  signal?: AbortSignal;
  onDecision(d: EgressDecision): void | Promise<void>;
}

export async function egressLog(opts: EgressLogOptions): Promise<void> {
  const port = portOf(opts);
  const name = gatewayContainerName(opts.project);
  const [gateway] = await port.listContainersByName([name]);
  if (!gateway) {
    throw new AgentctlError(
      'not-found',
      `project "${opts.project}" has no egress gateway (no agent has an egress policy, or it was removed)`,
    );
  }
  let pending = '';
  const lines: string[] = [];
  const demux = new Demultiplexer((stream, chunk) => {
    if (stream !== 'stdout') return;
    const parts = (pending + chunk.toString('utf8')).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  try {
    const body = await port.containerLogs(gateway.id, {
      follow: opts.follow ?? false,
      timestamps: false,
      signal: opts.signal,
    });
    for await (const chunk of body as AsyncIterable<Buffer>) {
      demux.push(chunk);
      for (const line of lines.splice(0)) {
        const d = parseDecision(line);
        if (d && (opts.agent === undefined || d.agent === opts.agent)) await opts.onDecision(d);
      }
    }
  } catch (err) {
    if (!opts.signal?.aborted) throw err;
  }
}

function parseDecision(line: string): EgressDecision | undefined {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (v.event !== 'decision') return undefined;
    const { event: _event, ...rest } = v;
    return rest as unknown as EgressDecision;
  } catch {
    return undefined;
  }
}
