import { describe, expect, it } from 'vitest';
import { gatewayHash, gatewaySpec } from '../../src/egress/plan.js';
import { plan } from '../../src/reconcile/plan.js';
import type { AgentSpec, ObservedEgress, ObservedState } from '../../src/types.js';
import { container, desired, observed, spec } from '../helpers/specs.js';

const NET = 'agentctl-egress-demo';
const rules = { allow: ['web.test:80'], deny: [] };
const coder = (over: Partial<AgentSpec> = {}) => spec('coder', { network: NET, egress: rules, ...over });
const image = 'agentctl-egress-gateway:abc';
const g = gatewaySpec({ project: 'demo', runtimeDir: '/srv/rt' }, image);

function world(
  over: Partial<ObservedEgress> = {},
  containers = [container(coder(), { egressAddress: '10.200.0.10' })],
): ObservedState {
  return {
    ...observed(containers),
    egress: {
      internal: { name: NET, subnet: '10.200.0.0/24', internal: true },
      outbound: { name: 'agentctl-egress-out-demo' },
      gateway: { id: 'gw', name: g.name, state: 'running', imageId: 'sha256:gw', specHash: gatewayHash(g) },
      gatewayImage: image,
      gatewayImageId: 'sha256:gw',
      policy: [{ agent: 'coder', address: '10.200.0.10', ...rules }],
      policyHostAddresses: [],
      hostAddresses: [],
      ...over,
    },
  };
}

const kinds = (o: ObservedState, d = desired([coder()])) => {
  const p = plan(d, o);
  return [...p.actions.map((a) => `${a.kind} ${a.agentId}`), ...(p.egress ?? []).map((e) => e.kind)];
};

describe('egress planning', () => {
  const cases: {
    name: string;
    world: ObservedState;
    desired?: ReturnType<typeof desired>;
    expect: string[];
  }[] = [
    { name: 'in sync: nothing to do', world: world(), expect: [] },
    {
      name: 'nothing yet: networks, policy, gateway, then the agent',
      world: { ...observed([]), egress: { gatewayImage: image, gatewayImageId: null, hostAddresses: [] } },
      expect: ['create coder', 'create-network', 'create-network', 'write-policy', 'create-gateway'],
    },
    { name: 'gateway removed', world: world({ gateway: undefined }), expect: ['create-gateway'] },
    {
      name: 'gateway stopped',
      world: world({
        gateway: { id: 'gw', name: g.name, state: 'exited', imageId: 'sha256:gw', specHash: gatewayHash(g) },
      }),
      expect: ['start-gateway'],
    },
    {
      name: 'gateway from an older agentctl',
      world: world({ gatewayImage: 'agentctl-egress-gateway:new' }),
      expect: ['recreate-gateway'],
    },
    {
      name: 'rules changed: in-place update and a new policy, no recreate',
      world: world({ policy: [{ agent: 'coder', address: '10.200.0.10', allow: ['old.test'], deny: [] }] }),
      expect: ['update coder', 'write-policy'],
    },
    {
      name: 'a new host address (a network created on the host): the policy is rewritten to refuse it',
      world: world({ hostAddresses: ['172.30.0.1'] }),
      expect: ['write-policy'],
    },
    {
      name: 'a host address gone: still refused by the policy, nothing to do',
      world: world({ policyHostAddresses: ['172.30.0.1'], hostAddresses: [] }),
      expect: [],
    },
    {
      name: 'policy file missing',
      world: world({ policy: undefined }),
      expect: ['update coder', 'write-policy'],
    },
    {
      name: 'no policy agent left: the gateway and its networks go, after the agents',
      world: world(),
      desired: desired([spec('coder')]),
      expect: ['recreate coder', 'remove-gateway', 'remove-network', 'remove-network'],
    },
  ];
  it.each(cases)('$name', ({ world: w, desired: d, expect: e }) => expect(kinds(w, d)).toEqual(e));

  it('a rules change never touches the spec hash', () => {
    const p = plan(desired([coder({ egress: { allow: ['other.test'], deny: ['x.test'] } })]), world());
    expect(p.actions.map((a) => a.kind)).toEqual(['update']);
    const a = p.actions[0];
    expect(a && 'changes' in a ? a.changes.map((c) => c.path) : []).toEqual(['egress.allow', 'egress.deny']);
  });

  it('keeps existing addresses and gives new agents the lowest free slot from 10', () => {
    const d = desired([
      coder(),
      spec('b', { network: NET, egress: rules }),
      spec('c', { network: NET, egress: rules }),
    ]);
    const p = plan(d, world({ policy: [] }, [container(coder(), { egressAddress: '10.200.0.11' })]));
    const slots = p.actions.flatMap((a) =>
      'spec' in a && a.kind === 'create' ? [[a.agentId, a.spec.egressSlot]] : [],
    );
    expect(slots).toEqual([
      ['b', 10],
      ['c', 12],
    ]);
    const policy = p.egress?.find((e) => e.kind === 'write-policy');
    expect(
      policy && policy.kind === 'write-policy' ? policy.policy.entries.map((e) => [e.agent, e.slot]) : [],
    ).toEqual([
      ['b', 10],
      ['c', 12],
      ['coder', 11],
    ]);
  });

  it('a recreated policy agent gets a new address (the old container holds its own until removed)', () => {
    const p = plan(desired([coder({ image: 'other:1' })]), world());
    const a = p.actions[0];
    expect(a?.kind).toBe('recreate');
    expect(a && 'spec' in a ? a.spec.egressSlot : undefined).toBe(11);
  });
});
