/**
 * The user's OpenSSH client config (~/.ssh/config), read as `ssh HOST` would read it for the few settings
 * that decide where an ssh engine's connection goes and as whom: HostName, User, Port and IdentityFile.
 * `host: ssh://gpu-box` then reaches the machine `ssh gpu-box` reaches. What the address or agents.yaml
 * says explicitly wins over the config file, as options on ssh's command line do.
 *
 * Settings that would send the connection somewhere else or check another host key (ProxyJump,
 * ProxyCommand, HostKeyAlias) are not implemented by agentctl's ssh client: a host that uses them is
 * refused, never reached directly behind the user's back.
 *
 * AGENTCTL_SSH_CONFIG names another file (tests, or a config kept apart); empty means none is read.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';

/** What the config says for one host; absent fields are not set there. */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** A setting the config gives this host that agentctl cannot honour (refused by the caller). */
  unsupported?: string;
  /** The file it came from, for messages. */
  file: string;
}

export type SshConfigLookup = (alias: string) => SshHostConfig | undefined;

const UNSUPPORTED = ['ProxyJump', 'ProxyCommand', 'HostKeyAlias'] as const;

export function sshConfigPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.AGENTCTL_SSH_CONFIG;
  if (given !== undefined) return given === '' ? undefined : given;
  return path.join(os.homedir(), '.ssh', 'config');
}

/** One parse per file content (mtime and size), so each engine's address does not re-read it. */
let cache: { file: string; stamp: string; config: SSHConfig } | undefined;

function load(file: string): SSHConfig | undefined {
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    return undefined; // no config file: nothing to apply, as for ssh
  }
  if (cache?.file === file && cache.stamp === stamp) return cache.config;
  const config = SSHConfig.parse(readFileSync(file, 'utf8'));
  cache = { file, stamp, config };
  return config;
}

/** The user's config for `alias` (its file from sshConfigPath), undefined when there is no file. */
export const userSshConfig: SshConfigLookup = (alias) => {
  const file = sshConfigPath();
  if (file === undefined) return undefined;
  const config = load(file);
  return config === undefined ? undefined : hostConfig(config, alias, file);
};

/** The settings of `alias` in a parsed config (pure but for `Match exec`, which runs as ssh runs it). */
export function hostConfig(config: SSHConfig, alias: string, file: string): SshHostConfig {
  const c = config.compute(alias);
  const first = (key: string): string | undefined => {
    const v = c[key];
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined || s === '' ? undefined : s;
  };
  const out: SshHostConfig = { file };
  const hostName = first('HostName');
  // %h in HostName is the alias itself (`HostName %h.example.com`).
  if (hostName !== undefined) out.hostName = hostName.replace(/%h/g, alias).toLowerCase();
  const user = first('User');
  if (user !== undefined) out.user = user;
  const port = first('Port');
  if (port !== undefined) {
    const n = Number(port);
    if (Number.isInteger(n) && n > 0 && n < 65536) out.port = n;
    else out.unsupported = `Port ${port}`;
  }
  const identity = first('IdentityFile');
  if (identity !== undefined && identity.toLowerCase() !== 'none') {
    const file = expandPath(identity, { alias, hostName: out.hostName ?? alias, user: out.user });
    // Where ssh looks for a relative one depends on its version: asked for plainly instead.
    if (path.isAbsolute(file)) out.identityFile = file;
    else out.unsupported = `IdentityFile ${identity} (a relative path: give it from / or ~/)`;
  }
  for (const key of UNSUPPORTED) {
    const v = first(key);
    // `ProxyJump none` / `ProxyCommand none` switch it off again: nothing to refuse.
    if (v !== undefined && v.toLowerCase() !== 'none' && out.unsupported === undefined) {
      out.unsupported = `${key} ${v}`;
    }
  }
  return out;
}

/** `~`, and the tokens ssh expands in IdentityFile that matter here (%d %h %n %r %u %%). */
function expandPath(p: string, t: { alias: string; hostName: string; user?: string }): string {
  const home = os.homedir();
  const local = os.userInfo().username;
  const s = p.replace(/%(.)/g, (m, k: string) => {
    switch (k) {
      case 'd':
        return home;
      case 'h':
        return t.hostName;
      case 'n':
        return t.alias;
      case 'r':
        return t.user ?? local;
      case 'u':
        return local;
      case '%':
        return '%';
      default:
        return m;
    }
  });
  if (s === '~') return home;
  if (s.startsWith('~/')) return path.join(home, s.slice(2));
  return s;
}
