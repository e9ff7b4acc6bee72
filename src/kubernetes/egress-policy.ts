/**
 * An agent's egress allow-list as the egress section of a NetworkPolicy. Pure.
 *
 * A NetworkPolicy matches addresses and ports, never names, so only CIDR rules can be expressed: each
 * becomes an `ipBlock` (TCP, as the gateway proxies HTTP and CONNECT only), with its port when the rule
 * has one. Deny CIDR rules are subtracted exactly: a deny block inside an allowed block becomes an
 * `except`, a deny port on an allowed block splits its port range (`port`/`endPort`). Host-name rules
 * fail closed: the policy does not allow them, and each one is a warning naming the agent and rule.
 *
 * No DNS is opened: under Docker a policy agent has no resolver at all (the gateway resolves the names
 * it lets through), CIDR rules need none, and an open DNS port would be a way to carry data out.
 */
import { intToIpv4, parseRule, type EgressRule } from '../egress/rules.js';
import type { EgressPolicy } from '../types.js';

export interface EgressWarning {
  field: 'egress.allow' | 'egress.deny';
  message: string;
}

interface Cidr {
  base: number;
  bits: number;
}

/** A block of addresses (minus the blocks in `except`) on ports lo..hi. */
interface Atom extends Cidr {
  except: Cidr[];
  lo: number;
  hi: number;
}

const ALL_PORTS = { lo: 1, hi: 65535 };

export function egressRules(policy: EgressPolicy): {
  egress: Record<string, unknown>[];
  warnings: EgressWarning[];
} {
  const allow = parsed(policy.allow);
  const deny = parsed(policy.deny);
  let atoms: Atom[] = allow
    .filter(isCidr)
    .map((r) => ({ base: r.base, bits: r.bits, except: [], ...ports(r) }));
  for (const d of deny.filter(isCidr)) atoms = atoms.flatMap((a) => subtract(a, d, ports(d)));
  const warnings: EgressWarning[] = allow.filter(isHost).map((r) => ({
    field: 'egress.allow',
    message: `"${r.text}" names a host, and a NetworkPolicy matches addresses only: the policy does not allow it (for name-based egress on a cluster use an egress proxy or a CNI with FQDN policies; see the README)`,
  }));
  // A name denied while a CIDR rule still allows addresses: the name's addresses may be among them.
  if (atoms.length > 0) {
    for (const r of deny.filter(isHost)) {
      warnings.push({
        field: 'egress.deny',
        message: `"${r.text}" names a host, and a NetworkPolicy matches addresses only: the pod can reach it wherever an allowed CIDR rule covers its addresses`,
      });
    }
  }
  return { egress: toRules(atoms), warnings };
}

function parsed(rules: readonly string[]): EgressRule[] {
  // The config layer has refused every rule that does not parse.
  return rules.map(parseRule).filter((r): r is EgressRule => typeof r !== 'string');
}

const isCidr = (r: EgressRule): r is Extract<EgressRule, { kind: 'cidr' }> => r.kind === 'cidr';
const isHost = (r: EgressRule): r is Extract<EgressRule, { kind: 'host' }> => r.kind === 'host';
const ports = (r: EgressRule) => (r.port === undefined ? ALL_PORTS : { lo: r.port, hi: r.port });

const mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
/** Whether `outer` contains `inner` (CIDR blocks either nest or are disjoint). */
const contains = (outer: Cidr, inner: Cidr) =>
  outer.bits <= inner.bits && (inner.base & mask(outer.bits)) >>> 0 === outer.base;

/** The ports lo..hi without q.lo..q.hi: zero, one or two ranges. */
function portsWithout(lo: number, hi: number, q: { lo: number; hi: number }): { lo: number; hi: number }[] {
  return [
    ...(q.lo > lo ? [{ lo, hi: Math.min(hi, q.lo - 1) }] : []),
    ...(q.hi < hi ? [{ lo: Math.max(lo, q.hi + 1), hi }] : []),
  ];
}

/** The atom without the deny block `d` on ports `q`. */
function subtract(a: Atom, d: Cidr, q: { lo: number; hi: number }): Atom[] {
  const disjoint = (!contains(a, d) && !contains(d, a)) || q.hi < a.lo || q.lo > a.hi;
  if (disjoint || a.except.some((e) => contains(e, d))) return [a];
  if (contains(d, a)) return portsWithout(a.lo, a.hi, q).map((r) => ({ ...a, ...r }));
  // d lies strictly inside a: a loses d on every port, and d keeps the ports the deny does not name.
  const outer: Atom = { ...a, except: [...a.except.filter((e) => !contains(d, e)), d] };
  const inner = portsWithout(a.lo, a.hi, q).map((r) => ({
    base: d.base,
    bits: d.bits,
    except: a.except.filter((e) => contains(d, e)),
    ...r,
  }));
  return [outer, ...inner];
}

const cidrText = (c: Cidr) => `${intToIpv4(c.base)}/${c.bits}`;
const byAddress = (x: Cidr, y: Cidr) => x.base - y.base || x.bits - y.bits;

/** Atoms grouped into rules: one per distinct set of ports, its blocks in address order. */
function toRules(atoms: Atom[]): Record<string, unknown>[] {
  const blocks = new Map<
    string,
    { block: Cidr & { except: Cidr[] }; ranges: { lo: number; hi: number }[] }
  >();
  for (const a of atoms) {
    const except = [...a.except].sort(byAddress);
    const key = [cidrText(a), ...except.map(cidrText)].join(' ');
    const entry = blocks.get(key) ?? { block: { base: a.base, bits: a.bits, except }, ranges: [] };
    entry.ranges.push({ lo: a.lo, hi: a.hi });
    blocks.set(key, entry);
  }
  const rules = new Map<string, { ports: Record<string, unknown>[]; to: (Cidr & { except: Cidr[] })[] }>();
  for (const { block, ranges } of blocks.values()) {
    const merged = mergeRanges(ranges);
    const key = merged.map((r) => `${r.lo}-${r.hi}`).join(',');
    const rule = rules.get(key) ?? { ports: merged.map(portEntry), to: [] };
    rule.to.push(block);
    rules.set(key, rule);
  }
  return [...rules.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, rule]) => ({
      to: rule.to.sort(byAddress).map((b) => ({
        ipBlock: { cidr: cidrText(b), ...(b.except.length > 0 ? { except: b.except.map(cidrText) } : {}) },
      })),
      ports: rule.ports,
    }));
}

function mergeRanges(ranges: { lo: number; hi: number }[]): { lo: number; hi: number }[] {
  const out: { lo: number; hi: number }[] = [];
  for (const r of [...ranges].sort((x, y) => x.lo - y.lo)) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ ...r });
  }
  return out;
}

function portEntry(r: { lo: number; hi: number }): Record<string, unknown> {
  if (r.lo === ALL_PORTS.lo && r.hi === ALL_PORTS.hi) return { protocol: 'TCP' };
  return { protocol: 'TCP', port: r.lo, ...(r.hi > r.lo ? { endPort: r.hi } : {}) };
}
