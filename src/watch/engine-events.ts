/**
 * Follows the engine's event stream for one project for as long as the controller lives, reconnecting
 * with back-off when the engine goes away (dockerd restarted, socket gone) and saying so, so that the
 * controller resyncs after every (re)connection: events missed while disconnected are never replayed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerEvent, DockerPort } from '../docker/port.js';
import { type AgentctlError, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';

export interface FollowHandlers {
  onEvent(e: ContainerEvent): void;
  /** The engine accepted the subscription (first time, or again after a disconnection). */
  onConnected(): void;
  /** The stream failed to open or broke (`error`), or the engine closed it; retrying in `retryInMs`. */
  onDisconnected(error: AgentctlError | undefined, retryInMs: number): void;
}

export interface ReconnectPolicy {
  initialMs: number;
  maxMs: number;
}

/** Quick first retries (a restarting dockerd is back within seconds), then no more than one every 5 s. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { initialMs: 200, maxMs: 5000 };

/**
 * Resolves `firstAttempt` once the first subscription has been accepted or has failed, and `done` once
 * `signal` is aborted.
 */
export function followEngineEvents(
  port: DockerPort,
  project: string,
  handlers: FollowHandlers,
  signal: AbortSignal,
  policy: ReconnectPolicy = DEFAULT_RECONNECT,
): { firstAttempt: Promise<void>; done: Promise<void> } {
  let attempted: () => void = () => undefined;
  const firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
  const done = (async () => {
    let failures = 0;
    while (!signal.aborted) {
      let error: AgentctlError | undefined;
      let connectedAt: number | undefined;
      try {
        const events = await port.containerEvents({ [LABEL.project]: project }, signal);
        connectedAt = Date.now();
        attempted();
        handlers.onConnected();
        for await (const e of events) handlers.onEvent(e);
      } catch (err) {
        if (signal.aborted) break;
        error = toAgentctlError(err);
      }
      attempted();
      if (signal.aborted) break;
      // Only a stream that lived a while starts the back-off over: one the engine accepts and drops at
      // once must not be retried in a tight loop.
      if (connectedAt !== undefined && Date.now() - connectedAt >= policy.maxMs) failures = 0;
      const retryInMs = Math.min(policy.maxMs, policy.initialMs * 2 ** failures++);
      handlers.onDisconnected(error, retryInMs);
      await sleep(retryInMs, undefined, { signal }).catch(() => undefined);
    }
    attempted();
  })();
  return { firstAttempt, done };
}
