/**
 * Room on a network: the addresses its IPv4 pools give containers, and which agents of a run a
 * network's bridge ports or addresses cannot take (preflight refuses them; a watch withholds them).
 */
import { describe, expect, it } from 'vitest';
import type { IPv4Pool } from '../../src/docker/port.js';
import { plan } from '../../src/reconcile/plan.js';
import { networkRoomProblems, usableIPv4Addresses } from '../../src/reconcile/network-room.js';
import type { AgentSpec } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

describe('usable IPv4 addresses of a network', () => {
  it.each([
    ['a /24 (network, broadcast, gateway out)', [{ subnet: '10.1.2.0/24', gateway: '10.1.2.1' }], 253],
    ['the default bridge, a /16', [{ subnet: '172.17.0.0/16', gateway: '172.17.0.1' }], 65533],
    ['a /30', [{ subnet: '10.1.2.0/30', gateway: '10.1.2.1' }], 1],
    ['a /29', [{ subnet: '10.1.2.8/29', gateway: '10.1.2.9' }], 5],
    ['a /31 leaves nothing', [{ subnet: '10.1.2.0/31', gateway: '10.1.2.1' }], 0],
    ['no gateway named: the bridge still takes one', [{ subnet: '10.1.2.0/24' }], 253],
    [
      'an IPRange in the upper half (broadcast in it, gateway not)',
      [{ subnet: '10.1.2.0/24', ipRange: '10.1.2.128/25', gateway: '10.1.2.1' }],
      127,
    ],
    [
      'an IPRange in the lower half (network address and gateway in it)',
      [{ subnet: '10.1.2.0/24', ipRange: '10.1.2.0/25', gateway: '10.1.2.1' }],
      126,
    ],
    [
      'a gateway inside a small IPRange',
      [{ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/28', gateway: '10.1.5.1' }],
      15,
    ],
    [
      'auxiliary addresses kept out',
      [{ subnet: '10.1.2.0/24', gateway: '10.1.2.1', reserved: ['10.1.2.5', '10.1.2.6', '10.9.9.9'] }],
      251,
    ],
    [
      'several subnets add up',
      [
        { subnet: '10.1.2.0/24', gateway: '10.1.2.1' },
        { subnet: '10.1.3.0/29', gateway: '10.1.3.1' },
      ],
      258,
    ],
    ['an IPv6 pool is not judged', [{ subnet: 'fd00:1::/64', gateway: 'fd00:1::1' }], undefined],
    ['no IPAM info', [], undefined],
  ] as [string, IPv4Pool[], number | undefined][])('%s', (_, pools, expected) => {
    expect(usableIPv4Addresses(pools)).toBe(expected);
  });
});

const ids = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const agents = (n: number, over: Partial<AgentSpec> = {}) =>
  Array.from({ length: n }, (_, i) => spec(`a-${String(i + 1).padStart(4, '0')}`, over));

describe('room on a network for the agents a run starts', () => {
  const docker0 = { bridge: 'docker0', attached: ids(1000) };
  it.each([
    [
      'a full docker0: the agents past its 1023 ports',
      agents(30),
      docker0,
      [
        [
          /^network bridge: its Linux bridge docker0 has 1000 port\(s\) taken and holds 1023; 30 more agent\(s\) on it leave 7 \(a-0024, a-0025, a-0026, a-0027, a-0028, and 2 more\) without one/,
          7,
        ],
      ],
    ],
    ['room left on docker0', agents(23), docker0, []],
    [
      'a /24 of 250 containers',
      agents(10),
      { attached: ids(250), ipv4Pools: [{ subnet: '10.1.2.0/24', gateway: '10.1.2.1' }] },
      [
        [
          /^network bridge: its IPv4 pool \(10\.1\.2\.0\/24\) gives containers 253 address\(es\), 250 taken; 10 more agent\(s\) on it leave 7 \(a-0004, a-0005, a-0006, a-0007, a-0008, and 2 more\) without one: their start would fail \("no available IPv4 addresses"\)/,
          7,
        ],
      ],
    ],
    [
      'a /24 bridge network of 300 agents: the addresses run out first',
      agents(300),
      {
        bridge: 'br-0123456789ab',
        attached: [],
        ipv4Pools: [{ subnet: '10.1.2.0/24', gateway: '10.1.2.1' }],
      },
      [
        [
          /gives containers 253 address\(es\), 0 taken; 300 more agent\(s\) on it leave 47 \(a-0254, [^)]*, and 42 more\) without one/,
          47,
        ],
      ],
    ],
    [
      'both limits at once',
      agents(30),
      { bridge: 'docker0', attached: ids(1010), ipv4Pools: [{ subnet: '10.1.0.0/22', gateway: '10.1.0.1' }] },
      [
        [
          /Linux bridge docker0 has 1010 port\(s\) taken and holds 1023; 30 more agent\(s\) on it leave 17 \(a-0014, /,
          17,
        ],
        [/gives containers 1021 address\(es\), 1010 taken; 30 more agent\(s\) on it leave 19 \(a-0012, /, 19],
      ],
    ],
    ['agents off the full network', agents(30, { network: 'none' }), docker0, []],
    ['an IPv6-only network is not judged', agents(30), { attached: ids(10), ipv4Pools: [] }, []],
  ] as const)('%s', (_, starting, info, expected) => {
    const d = desired([...starting]);
    const got = networkRoomProblems(d, plan(d, observed([])).actions, [{ network: 'bridge', info }]);
    expect(got).toHaveLength(expected.length);
    expected.forEach(([re, excess], i) => {
      expect(got[i]?.message).toMatch(re);
      // The agents past the room, the last of the run's order: the first ones fit.
      expect(got[i]?.agents).toEqual(starting.slice(starting.length - excess).map((a) => a.id));
    });
  });

  it('a full network of its own, beside docker0', () => {
    const starting = agents(5, { network: 'lab' });
    const d = desired(starting);
    const got = networkRoomProblems(d, plan(d, observed([])).actions, [
      { network: 'bridge', info: docker0 },
      { network: 'lab', info: { bridge: 'br-0123456789ab', attached: ids(1022) } },
    ]);
    expect(got.map((x) => x.message)).toEqual([
      expect.stringMatching(
        /^network lab: its Linux bridge br-0123456789ab has 1022 port\(s\) taken and holds 1023; 5 more agent\(s\) on it leave 4 /,
      ),
    ]);
    expect(got[0]?.agents).toEqual(starting.slice(1).map((a) => a.id));
  });

  const slash29 = { ipv4Pools: [{ subnet: '10.1.2.0/29', gateway: '10.1.2.1' }] };

  it("a recreate frees its old container's address before its replacement takes one", () => {
    const fleet = agents(5);
    const d = desired(fleet.map((a) => ({ ...a, image: 'claude-agent:next' })));
    const o = observed(
      fleet.map((a) => container(a)),
      { images: { 'claude-agent:next': 'sha256:next', 'claude-agent:latest': 'sha256:x' } },
    );
    const p = plan(d, o);
    expect(p.actions.filter((a) => a.kind === 'recreate')).toHaveLength(5);
    const info = { ...slash29, attached: fleet.map((a) => `c-${a.id}`) };
    expect(networkRoomProblems(d, p.actions, [{ network: 'bridge', info }])).toEqual([]);
  });

  it('a stopped agent started takes an address; one removed gives its own back', () => {
    const kept = agents(3);
    const stopped = spec('z-stopped');
    const gone = spec('z-gone');
    const extra = agents(3).map((a) => spec(`b-${a.id}`));
    const d = desired([...kept, stopped, ...extra]);
    const o = observed([
      ...kept.map((a) => container(a)),
      container(stopped, { state: 'exited' }),
      container(gone),
    ]);
    const p = plan(d, o);
    expect(p.actions.map((a) => a.kind).sort()).toEqual(['create', 'create', 'create', 'remove', 'start']);
    // 5 addresses: 3 kept + the removed one's attached now; after the run, 3 kept + 1 started + 3 new.
    const attached = [...kept, gone].map((a) => `c-${a.id}`);
    const got = networkRoomProblems(d, p.actions, [{ network: 'bridge', info: { ...slash29, attached } }]);
    expect(got.map((x) => x.message)).toEqual([
      expect.stringMatching(
        /gives containers 5 address\(es\), 3 taken; 4 more agent\(s\) on it leave 2 \(b-a-0003, z-stopped\) without one/,
      ),
    ]);
    expect(got[0]?.agents).toEqual(['b-a-0003', 'z-stopped']);
  });
});
