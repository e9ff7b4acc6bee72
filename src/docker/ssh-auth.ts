/**
 * Which credentials an ssh engine connection offers, in OpenSSH's order: the keys of a running
 * ssh-agent (SSH_AUTH_SOCK), then the engine's `identityFile` or, without one, the user's default keys
 * (~/.ssh/id_ed25519, id_ecdsa, id_rsa). Passphrase-protected key files are not decrypted here (there is
 * no prompt in an unattended apply): they are used through ssh-agent, and a named one that cannot be
 * used is an error saying so. Also where known_hosts lives.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuthHandlerMiddleware, ParsedKey, utils } from 'ssh2';
import { AgentctlError } from '../errors.js';

/** ssh2's key parser (ssh2 is loaded only when an ssh engine is used: it is heavy). */
type ParseKey = typeof utils.parseKey;

export interface SshCredentials {
  /** ssh2 auth attempts, in order. */
  methods: ({ type: 'agent'; agent: string } | { type: 'publickey'; key: ParsedKey })[];
  /** What was tried, for the message when the server accepts none of them. */
  tried: string[];
  /** Key files that were found but cannot be used (encrypted, unparseable), and why. */
  skipped: string[];
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** `~/x` as the user means it. */
export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

/** `/home/u/.ssh/x` back as `~/.ssh/x`, for messages. */
export function shortHome(file: string): string {
  const home = os.homedir();
  return file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

/**
 * `identityFile`: the engine's named key (absolute, or relative to the current directory after `~`
 * expansion). `engine`: how messages name it. Throws for a named key that cannot be read or used.
 */
export function sshCredentials(
  parseKey: ParseKey,
  engine: string,
  identityFile?: string,
  env: NodeJS.ProcessEnv = process.env,
): SshCredentials {
  const creds: SshCredentials = { methods: [], tried: [], skipped: [] };
  if (env.SSH_AUTH_SOCK) {
    creds.methods.push({ type: 'agent', agent: env.SSH_AUTH_SOCK });
    creds.tried.push('the keys of ssh-agent (SSH_AUTH_SOCK)');
  }
  if (identityFile !== undefined) {
    const file = path.resolve(expandHome(identityFile));
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      throw new AgentctlError(
        'engine-unreachable',
        `${engine}: its identityFile ${identityFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    const key = parse(parseKey, data);
    if (typeof key === 'string') {
      // Usable through the agent when the agent holds it; otherwise it is an error, not a silent skip.
      if (!env.SSH_AUTH_SOCK) {
        throw new AgentctlError(
          'engine-unreachable',
          `${engine}: its identityFile ${identityFile} ${key}; add it to ssh-agent (ssh-add ${identityFile}) and run agentctl with SSH_AUTH_SOCK set`,
        );
      }
      creds.skipped.push(`${identityFile} ${key}`);
    } else {
      creds.methods.push({ type: 'publickey', key });
      creds.tried.push(identityFile);
    }
    return creds;
  }
  for (const name of DEFAULT_KEYS) {
    const file = path.join(os.homedir(), '.ssh', name);
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue;
    }
    const key = parse(parseKey, data);
    if (typeof key === 'string') creds.skipped.push(`${shortHome(file)} ${key}`);
    else {
      creds.methods.push({ type: 'publickey', key });
      creds.tried.push(shortHome(file));
    }
  }
  return creds;
}

/** The key, or why it cannot be used. */
function parse(parseKey: ParseKey, data: Buffer): ParsedKey | string {
  const parsed = parseKey(data);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const why = key instanceof Error ? key.message : 'no key';
    return /encrypted|passphrase/i.test(why)
      ? 'is passphrase-protected'
      : `is not a usable private key (${why})`;
  }
  if (!key.isPrivateKey()) return 'is a public key, not a private one';
  return key;
}

/** ssh2's authHandler over the credentials, in order; then false (no method left). */
export function authHandler(username: string, creds: SshCredentials): AuthHandlerMiddleware {
  let next = 0;
  return (_left, _partial, done) => {
    const m = creds.methods[next++];
    // ssh2 takes `false` for "none left" (its typings only know methods).
    if (!m) return done(false as never);
    done(
      m.type === 'agent'
        ? { type: 'agent', username, agent: m.agent }
        : { type: 'publickey', username, key: m.key },
    );
  };
}

/** The user's known_hosts files (OpenSSH's defaults), those that exist, as text. */
export function readKnownHosts(): { files: string[]; texts: string[] } {
  const files = [path.join(os.homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const texts: string[] = [];
  for (const f of files) {
    try {
      texts.push(readFileSync(f, 'utf8'));
    } catch {
      // A missing file trusts nothing.
    }
  }
  return { files: files.map(shortHome), texts };
}
