/** A port's memory of the engine's info: asked once until forgotten, a failure not remembered. */
import { describe, expect, it } from 'vitest';
import type { DockerPort } from '../../src/docker/port.js';
import { cacheInfo } from '../../src/docker/info-cache.js';

function fakePort(answers: (() => Promise<unknown>)[]) {
  const calls = { info: 0 };
  const port = {
    name: 'fake',
    info: () => answers[calls.info++]?.() ?? Promise.reject(new Error('no more answers')),
    listContainers: function (this: { name: string }) {
      return Promise.resolve(this.name);
    },
  };
  return { port: port as unknown as DockerPort, calls };
}

describe('cacheInfo', () => {
  it('asks the engine once until forgotten, and passes every other call through', async () => {
    const { port, calls } = fakePort([
      () => Promise.resolve({ ncpu: 2 }),
      () => Promise.resolve({ ncpu: 4 }),
    ]);
    const c = cacheInfo(port);
    expect(await c.port.info()).toEqual({ ncpu: 2 });
    expect(await c.port.info()).toEqual({ ncpu: 2 });
    expect(calls.info).toBe(1);
    c.forget();
    expect(await c.port.info()).toEqual({ ncpu: 4 });
    expect(calls.info).toBe(2);
    // Methods run on the port itself (its own `this`).
    expect(await c.port.listContainers({})).toBe('fake');
  });

  it('does not remember a failed answer', async () => {
    const { port, calls } = fakePort([
      () => Promise.reject(new Error('down')),
      () => Promise.resolve({ ncpu: 2 }),
    ]);
    const c = cacheInfo(port);
    await expect(c.port.info()).rejects.toThrow('down');
    expect(await c.port.info()).toEqual({ ncpu: 2 });
    expect(calls.info).toBe(2);
  });
});
