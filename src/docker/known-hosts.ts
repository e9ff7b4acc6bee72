/**
 * known_hosts, as OpenSSH reads it: which host keys this user trusts for an ssh server. An ssh engine is
 * only driven once its server proved to hold one of them; an unknown or changed key is refused, never
 * accepted on first use (the user adds it with ssh, which shows the fingerprint and asks).
 *
 * Format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[@marker] patterns keytype base64-key [comment]`.
 * Patterns are comma-separated host names with `*`/`?` wildcards and `!` negation, `[host]:port` for a
 * port other than 22, or one hashed name `|1|salt|hmac-sha1(salt, name)` (HashKnownHosts). Pure.
 */
import { createHash, createHmac } from 'node:crypto';

export type HostKeyVerdict =
  | { ok: true }
  /** `unknown`: no key for this host; `changed`: keys for it, none the offered one; `revoked`: marked @revoked. */
  | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; fingerprint: string; keyType: string };

interface Entry {
  marker?: string;
  patterns: string;
  keyType: string;
  key: string;
}

/** The name known_hosts files this host under: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:...` as ssh prints it (base64 without padding). */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a public key blob names (its first SSH string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return '';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** The key types known_hosts holds for this host, so the client can ask the server for one of them first. */
export function knownKeyTypes(files: readonly string[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = new Set<string>();
  for (const e of entries(files)) if (!e.marker && matches(e.patterns, name)) types.add(e.keyType);
  return [...types];
}

export function verifyHostKey(
  files: readonly string[],
  host: string,
  port: number,
  keyBlob: Buffer,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const offered = keyBlob.toString('base64');
  const fingerprint = fingerprintOf(keyBlob);
  const keyType = keyTypeOf(keyBlob);
  let sawHost = false;
  let trusted = false;
  for (const e of entries(files)) {
    if (!matches(e.patterns, name)) continue;
    if (e.marker === '@revoked') {
      if (e.key === offered) return { ok: false, reason: 'revoked', fingerprint, keyType };
      continue;
    }
    // Host certificates (@cert-authority) are not checked by this client: such a line proves nothing here.
    if (e.marker) continue;
    sawHost = true;
    if (e.key === offered) trusted = true;
  }
  if (trusted) return { ok: true };
  return { ok: false, reason: sawHost ? 'changed' : 'unknown', fingerprint, keyType };
}

function* entries(files: readonly string[]): Generator<Entry> {
  for (const text of files) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
      const [patterns, keyType, key] = fields;
      if (!patterns || !keyType || !key) continue;
      yield { marker, patterns, keyType, key };
    }
  }
}

/** Whether a line's pattern list names `name`: one positive match and no negated one. */
function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatches(patterns, name);
  let hit = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    if (!glob(negated ? p.slice(1) : p, name)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

function hashedMatches(pattern: string, name: string): boolean {
  const [, , salt, hash] = pattern.split('|');
  if (!salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character, case-insensitive for host names. */
function glob(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name.toLowerCase());
}
