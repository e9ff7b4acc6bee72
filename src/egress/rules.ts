/**
 * Egress rules: parsing (for the config's messages) and the decision the gateway makes for one request.
 * Pure and dependency-free: the gateway bundles this file, and the config layer uses the same parser, so
 * a rule the file accepts is a rule the gateway understands the same way.
 *
 * A rule is `host[:port]` (optionally `*.` in front: any subdomain, not the name itself) or
 * `CIDR[:port]` (IPv4). Without a port it matches every port. Deny wins over allow; nothing matched is
 * denied. A name allowed by a host rule is still refused when it resolves to a loopback, link-local
 * (169.254.0.0/16: cloud metadata), unspecified or host address, unless a CIDR allow rule names that
 * address explicitly: DNS must not be a way around the boundary.
 */

export type EgressRule =
  | { kind: 'host'; text: string; host: string; wildcard: boolean; port?: number }
  | { kind: 'cidr'; text: string; base: number; bits: number; port?: number };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The rule, or a message saying what is wrong with it. */
export function parseRule(text: string): EgressRule | string {
  const t = text.trim().toLowerCase();
  if (t === '') return 'an egress rule must not be empty';
  if (/[\s/]/.test(t.replace(/^[0-9.]+\/\d+/, '')))
    return `"${text}" is not a host[:port] or CIDR[:port] rule`;
  let rest = t;
  let port: number | undefined;
  const m = t.split(':').length === 2 ? /^(.*):(\d+)$/.exec(t) : null;
  if (m) {
    rest = m[1] ?? '';
    port = Number(m[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `"${text}": port must be 1-65535`;
  }
  if (rest.includes(':')) {
    return `"${text}": only IPv4 and host names are supported, with an optional :port`;
  }
  const cidr = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(rest);
  if (cidr) {
    const base = ipv4ToInt(cidr[1] ?? '');
    const bits = cidr[2] === undefined ? 32 : Number(cidr[2]);
    if (base === undefined) return `"${text}": not an IPv4 address`;
    if (bits > 32) return `"${text}": a prefix length is at most 32`;
    if ((base & maskOf(bits)) >>> 0 !== base)
      return `"${text}": host bits are set; write ${intToIpv4((base & maskOf(bits)) >>> 0)}/${bits}`;
    return { kind: 'cidr', text, base, bits, ...(port !== undefined && { port }) };
  }
  const wildcard = rest.startsWith('*.');
  const host = wildcard ? rest.slice(2) : rest;
  const labels = host.split('.');
  if (host.length > 253 || labels.some((l) => !LABEL.test(l)) || /^[0-9.]+$/.test(host)) {
    return `"${text}" is not a host name (letters, digits, '-' and '.', optionally starting with "*.")`;
  }
  return { kind: 'host', text, host, wildcard, ...(port !== undefined && { port }) };
}

export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function inCidr(ip: number, rule: { base: number; bits: number }): boolean {
  return (ip & maskOf(rule.bits)) >>> 0 === rule.base;
}

function portMatches(rule: EgressRule, port: number): boolean {
  return rule.port === undefined || rule.port === port;
}

function hostMatches(rule: Extract<EgressRule, { kind: 'host' }>, host: string): boolean {
  return rule.wildcard ? host.endsWith(`.${rule.host}`) : host === rule.host;
}

/** Loopback, link-local (metadata), unspecified and multicast/broadcast: never reached through a name. */
export function specialAddressKind(ip: number): string | undefined {
  if (inCidr(ip, { base: ipv4ToInt('127.0.0.0') ?? 0, bits: 8 })) return 'loopback';
  if (inCidr(ip, { base: ipv4ToInt('169.254.0.0') ?? 0, bits: 16 })) return 'link-local (cloud metadata)';
  if (inCidr(ip, { base: 0, bits: 8 })) return 'unspecified';
  if (inCidr(ip, { base: ipv4ToInt('224.0.0.0') ?? 0, bits: 3 })) return 'multicast or broadcast';
  return undefined;
}

export interface CompiledPolicy {
  allow: EgressRule[];
  deny: EgressRule[];
}

export function compilePolicy(policy: { allow: readonly string[]; deny: readonly string[] }): CompiledPolicy {
  const parse = (list: readonly string[]) =>
    list.map(parseRule).filter((r): r is EgressRule => typeof r !== 'string');
  return { allow: parse(policy.allow), deny: parse(policy.deny) };
}

export type Decision =
  { allowed: true; rule: string; address: string } | { allowed: false; rule: string; reason: string };

/**
 * Decides a request for `host:port`. `resolve` gives the IPv4 addresses of a name (an IP literal is its
 * own); `hostAddresses` are the Docker host's own addresses.
 */
export async function decide(
  policy: CompiledPolicy,
  rawHost: string,
  port: number,
  resolve: (host: string) => Promise<string[]>,
  hostAddresses: ReadonlySet<string>,
): Promise<Decision> {
  const host = rawHost.toLowerCase().replace(/\.$/, '');
  const literal = ipv4ToInt(host);
  const denyByName = policy.deny.find(
    (r) => r.kind === 'host' && portMatches(r, port) && hostMatches(r, host),
  );
  if (denyByName) return { allowed: false, rule: `deny ${denyByName.text}`, reason: 'denied by rule' };
  const cidrAllow = (ip: number) =>
    policy.allow.find((r) => r.kind === 'cidr' && portMatches(r, port) && inCidr(ip, r));
  const cidrDeny = (ip: number) =>
    policy.deny.find((r) => r.kind === 'cidr' && portMatches(r, port) && inCidr(ip, r));
  if (literal !== undefined) {
    const deny = cidrDeny(literal);
    if (deny) return { allowed: false, rule: `deny ${deny.text}`, reason: 'denied by rule' };
    const allow = cidrAllow(literal);
    if (allow) return { allowed: true, rule: `allow ${allow.text}`, address: host };
    return { allowed: false, rule: '(default deny)', reason: `no allow rule matches ${host}:${port}` };
  }
  // A name no host rule allows is refused without being looked up: resolving whatever an agent asks
  // for would let it send data out in DNS queries.
  const byName = policy.allow.find((r) => r.kind === 'host' && portMatches(r, port) && hostMatches(r, host));
  if (!byName)
    return { allowed: false, rule: '(default deny)', reason: `no allow rule matches ${host}:${port}` };
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    return {
      allowed: false,
      rule: `allow ${byName.text}`,
      reason: `cannot resolve ${host}: ${(err as Error).message}`,
    };
  }
  const v4 = addresses
    .map((a) => [a, ipv4ToInt(a)] as const)
    .filter((x): x is [string, number] => x[1] !== undefined);
  if (v4.length === 0)
    return { allowed: false, rule: `allow ${byName.text}`, reason: `${host} has no IPv4 address` };
  for (const [address, ip] of v4) {
    const deny = cidrDeny(ip);
    if (deny)
      return { allowed: false, rule: `deny ${deny.text}`, reason: `${host} is ${address}, denied by rule` };
    // Every address must be safe: a name must not lead to the host, loopback or metadata by DNS.
    const special =
      specialAddressKind(ip) ?? (hostAddresses.has(address) ? "the Docker host's own address" : undefined);
    if (special && !cidrAllow(ip)) {
      return {
        allowed: false,
        rule: `allow ${byName.text}`,
        reason: `${host} resolves to ${address}, ${special}; only a CIDR rule naming that address allows it`,
      };
    }
  }
  return { allowed: true, rule: `allow ${byName.text}`, address: v4[0]?.[0] ?? '' };
}
