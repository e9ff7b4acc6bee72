import { describe, expect, it } from 'vitest';
import { runtimeTraitsOf } from '../../src/docker/runtime-traits.js';

describe('runtimeTraitsOf: what an engine runtime registration says', () => {
  it.each([
    [{ path: 'runc' }, { gvisor: false, noNetwork: false }],
    [{ path: '/usr/bin/runsc' }, { gvisor: true, noNetwork: false }],
    [
      { path: '/usr/bin/runsc', runtimeArgs: ['--network=none'] },
      { gvisor: true, noNetwork: true },
    ],
    [
      { path: '/usr/local/bin/runsc', runtimeArgs: ['-network', 'none'] },
      { gvisor: true, noNetwork: true },
    ],
    [
      { path: '/usr/bin/runsc', runtimeArgs: ['--network=host'] },
      { gvisor: true, noNetwork: false },
    ],
    [
      { path: '/usr/bin/runsc', runtimeArgs: null },
      { gvisor: true, noNetwork: false },
    ],
    [{ runtimeType: 'io.containerd.runsc.v1' }, { gvisor: true, noNetwork: false }],
    // The name a user gives a runtime proves nothing; only what runs does.
    [
      { path: '/usr/bin/crun', runtimeArgs: ['--network=none'] },
      { gvisor: false, noNetwork: false },
    ],
    [{}, { gvisor: false, noNetwork: false }],
  ])('%j -> %j', (entry, traits) => {
    expect(runtimeTraitsOf(entry)).toEqual(traits);
  });
});
