/**
 * The watcher's inspect cache: an answer is reused until the container's next event (forget) or a full
 * look (forgetAll); a failed inspect is never remembered. A fake port: only the call count matters.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerDetails, DockerPort } from '../../src/docker/port.js';
import { InspectCache } from '../../src/watch/inspect-cache.js';

function countingPort(fail = new Set<string>()): { port: DockerPort; calls: string[] } {
  const calls: string[] = [];
  const port = {
    inspectContainer: (id: string) => {
      calls.push(id);
      if (fail.has(id)) return Promise.reject(new Error(`engine said no to ${id}`));
      return Promise.resolve({ id, name: id, state: 'running' } as ContainerDetails);
    },
  } as unknown as DockerPort;
  return { port, calls };
}

describe('InspectCache', () => {
  it('asks the engine once per container until its event or a full look', async () => {
    const { port, calls } = countingPort();
    const cache = new InspectCache(port);
    await Promise.all([cache.inspect('a'), cache.inspect('a'), cache.inspect('b')]);
    await cache.inspect('a');
    expect(calls).toEqual(['a', 'b']);
    cache.forget('a');
    await cache.inspect('a');
    await cache.inspect('b');
    expect(calls).toEqual(['a', 'b', 'a']);
    cache.forgetAll();
    await cache.inspect('b');
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
  });

  it('does not remember a failed inspect', async () => {
    const fail = new Set(['x']);
    const { port, calls } = countingPort(fail);
    const cache = new InspectCache(port);
    await expect(cache.inspect('x')).rejects.toThrow(/said no/);
    fail.clear();
    await expect(cache.inspect('x')).resolves.toMatchObject({ id: 'x' });
    expect(calls).toEqual(['x', 'x']);
  });
});
