/**
 * Egress allow-lists as NetworkPolicy rules: table cases, and the rendered rules checked against the
 * gateway's own decision (src/egress/rules.ts) for addresses at and around every rule's edges, so a
 * cluster allows exactly the address-and-port pairs the gateway would.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy, decide, intToIpv4, ipv4ToInt, parseRule } from '../../src/egress/rules.js';
import { egressRules } from '../../src/kubernetes/egress-policy.js';

interface Peer {
  ipBlock: { cidr: string; except?: string[] };
}
interface Rule {
  to: Peer[];
  ports: { protocol: string; port?: number; endPort?: number }[];
}

/** NetworkPolicy semantics: a packet is allowed when some rule has a peer and a port matching it. */
function allows(rules: Rule[], ip: number, port: number): boolean {
  const within = (cidr: string) => {
    const [base, bits] = cidr.split('/');
    const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
    return (ip & mask) >>> 0 === ipv4ToInt(base ?? '');
  };
  return rules.some(
    (r) =>
      r.to.some((p) => within(p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some(within)) &&
      r.ports.some(
        (p) =>
          p.protocol === 'TCP' && (p.port === undefined || (port >= p.port && port <= (p.endPort ?? p.port))),
      ),
  );
}

const policies: [string, { allow: string[]; deny: string[] }][] = [
  ['one block, all ports', { allow: ['10.0.0.0/8'], deny: [] }],
  ['a port', { allow: ['192.168.1.0/24:443'], deny: [] }],
  ['a deny block inside', { allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] }],
  ['a deny port inside', { allow: ['10.0.0.0/8'], deny: ['10.2.3.4:22'] }],
  ['a deny port on the whole block', { allow: ['10.0.0.0/8'], deny: ['10.0.0.0/8:80'] }],
  ['a deny covering the allow', { allow: ['10.1.2.0/24:443'], deny: ['10.0.0.0/8'] }],
  ['a deny on another port', { allow: ['10.1.2.0/24:443'], deny: ['10.0.0.0/8:22'] }],
  [
    'nested denies and a port inside a hole',
    { allow: ['10.0.0.0/8', '10.1.5.0/24:8080'], deny: ['10.1.0.0/16', '10.1.5.7:8080', '10.9.0.0/16:443'] },
  ],
  ['everything but metadata', { allow: ['0.0.0.0/0'], deny: ['169.254.0.0/16', '0.0.0.0/0:25'] }],
];

/** Addresses at, just inside and just outside every rule's block, plus a few others. */
function probes(rules: string[]): { ips: number[]; ports: number[] } {
  const ips = new Set<number>([0, 0x7f000001, 0x08080808, 0xffffffff]);
  const ports = new Set<number>([1, 21, 22, 23, 80, 443, 444, 8080, 65535]);
  for (const text of rules) {
    const r = parseRule(text);
    if (typeof r === 'string' || r.kind !== 'cidr') continue;
    const size = 2 ** (32 - r.bits);
    for (const ip of [r.base - 1, r.base, r.base + 1, r.base + size - 1, r.base + size]) {
      if (ip >= 0 && ip <= 0xffffffff) ips.add(ip);
    }
    if (r.port !== undefined) for (const p of [r.port - 1, r.port, r.port + 1]) ports.add(p);
  }
  return { ips: [...ips], ports: [...ports].filter((p) => p >= 1 && p <= 65535) };
}

describe('egress allow-list -> NetworkPolicy egress rules', () => {
  it.each(policies)('%s: allows exactly what the gateway allows for an address', async (_name, policy) => {
    const { egress } = egressRules(policy);
    const compiled = compilePolicy(policy);
    const { ips, ports } = probes([...policy.allow, ...policy.deny]);
    const noResolve = () => Promise.reject(new Error('literal addresses only'));
    for (const ip of ips) {
      for (const port of ports) {
        const gateway = await decide(compiled, intToIpv4(ip), port, noResolve, new Set());
        expect(allows(egress as unknown as Rule[], ip, port), `${intToIpv4(ip)}:${port}`).toBe(
          gateway.allowed,
        );
      }
    }
  });

  it('writes a deny block as an except and a denied port as the ranges around it', () => {
    expect(egressRules({ allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16', '10.2.3.4:22'] }).egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '10.2.3.4/32' } }],
        ports: [
          { protocol: 'TCP', port: 1, endPort: 21 },
          { protocol: 'TCP', port: 23, endPort: 65535 },
        ],
      },
      {
        to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.3.4/32'] } }],
        ports: [{ protocol: 'TCP' }],
      },
    ]);
  });

  it('fails closed on host names: nothing allowed, a warning per rule; no DNS is opened', () => {
    const r = egressRules({ allow: ['api.example.com:443', '*.github.com'], deny: ['evil.example.com'] });
    expect(r.egress).toEqual([]);
    expect(r.warnings.map((w) => [w.field, w.message.slice(0, 40)])).toEqual([
      ['egress.allow', '"api.example.com:443" names a host, and '],
      ['egress.allow', '"*.github.com" names a host, and a Netwo'],
    ]);
    // A denied name matters only when some address is still allowed.
    const mixed = egressRules({ allow: ['10.0.0.0/8:53'], deny: ['evil.example.com'] });
    expect(mixed.warnings.map((w) => w.field)).toEqual(['egress.deny']);
    expect(JSON.stringify(mixed.egress)).not.toMatch(/UDP|kube-dns/);
  });

  it('is deterministic whatever order the rules come in', () => {
    const a = egressRules({
      allow: ['10.0.0.0/8', '192.168.0.0/16:443'],
      deny: ['10.1.0.0/16', '10.9.9.9:80'],
    });
    const b = egressRules({
      allow: ['192.168.0.0/16:443', '10.0.0.0/8'],
      deny: ['10.9.9.9:80', '10.1.0.0/16'],
    });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});
