/**
 * Following the engine's event stream through failures. The engine cannot be made to refuse, drop and
 * accept a subscription on cue, so this uses a scripted stand-in for the port's one streaming method.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerEvent, DockerPort } from '../../src/docker/port.js';
import { followEngineEvents } from '../../src/watch/engine-events.js';

const event = (action: string): ContainerEvent => ({
  action,
  containerId: 'c',
  attributes: { 'agentctl.agent': 'a' },
  timeMs: 0,
});

/** Each call to containerEvents plays the next scripted subscription. */
function scriptedPort(script: ((signal: AbortSignal) => Promise<AsyncIterable<ContainerEvent>>)[]) {
  const labels: Record<string, string>[] = [];
  const port = {
    containerEvents(l: Record<string, string>, signal: AbortSignal) {
      labels.push(l);
      const next = script.shift();
      if (!next) throw new Error('no more scripted subscriptions');
      return next(signal);
    },
  } as unknown as DockerPort;
  return { port, labels };
}

async function* events(...actions: string[]): AsyncGenerator<ContainerEvent> {
  for (const a of actions) yield event(a);
}

/** A stream that stays open until aborted, as a healthy engine's does. */
function openUntilAborted(signal: AbortSignal): AsyncIterable<ContainerEvent> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise<IteratorResult<ContainerEvent>>((resolve) => {
          if (signal.aborted) resolve({ done: true, value: undefined });
          signal.addEventListener('abort', () => resolve({ done: true, value: undefined }));
        }),
    }),
  };
}

describe('following engine events', () => {
  it('reconnects with growing delays, passes events on, and stops when aborted', async () => {
    const abort = new AbortController();
    const log: string[] = [];
    let connections = 0;
    const { port, labels } = scriptedPort([
      () =>
        Promise.reject(Object.assign(new Error('connect ECONNREFUSED /x.sock'), { code: 'ECONNREFUSED' })),
      // Accepted, two events, then closed by the engine at once.
      async () => events('die', 'start'),
      // Accepted, then broken.
      async () =>
        (async function* () {
          yield event('kill');
          throw new Error('aborted');
        })(),
      async (signal) => {
        queueMicrotask(() => abort.abort());
        return openUntilAborted(signal);
      },
    ]);
    const follow = followEngineEvents(
      port,
      'demo',
      {
        onEvent: (e) => log.push(`event ${e.action}`),
        onConnected: () => log.push(`connected ${++connections}`),
        onDisconnected: (err, retryInMs) => log.push(`lost (${err?.kind ?? 'closed'}) retry ${retryInMs}`),
      },
      abort.signal,
      { initialMs: 1, maxMs: 60_000 },
    );
    await follow.firstAttempt;
    await follow.done;
    expect(log).toEqual([
      'lost (engine-unreachable) retry 1',
      'connected 1',
      'event die',
      'event start',
      // Dropped right after it was accepted: the back-off keeps growing rather than starting over.
      'lost (closed) retry 2',
      'connected 2',
      'event kill',
      'lost (engine) retry 4',
      'connected 3',
    ]);
    expect(labels).toEqual(Array(4).fill({ 'agentctl.project': 'demo' }));
  });
});
