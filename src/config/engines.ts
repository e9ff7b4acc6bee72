/**
 * The file's `engines:`: each engine's address, TLS files and runtime directory, checked where written.
 * `local` is implicit (DOCKER_HOST or the default socket, with the top-level runtimeDir) and cannot be
 * redefined: one name must mean one engine in every file.
 */
import { isAbsolute, normalize, resolve } from 'node:path';
import { type EngineSpec, LOCAL_ENGINE } from '../types.js';
import { closest } from '../util/did-you-mean.js';
import type { Diagnostics } from './diagnostics.js';
import type { FieldPath } from './field-path.js';
import type { RawConfig } from './raw.js';

export function readEngines(
  root: RawConfig,
  opts: { baseDir: string; runtimeDir: string },
  d: Diagnostics,
): EngineSpec[] {
  const engines: EngineSpec[] = [{ name: LOCAL_ENGINE, runtimeDir: opts.runtimeDir }];
  if (!root.engines || !d.usable(['engines'])) return engines;
  for (const [name, raw] of Object.entries(root.engines)) {
    const at: FieldPath = ['engines', name];
    // One with a schema error (a misspelt field...) was reported as such; checking it further would mislead.
    if (!d.usable(at) || !d.clean(at)) continue;
    const pos = d.locator.keyPos(at);
    if (name === LOCAL_ENGINE) {
      const set = Object.keys(raw ?? {});
      if (set.length > 0)
        d.problem(
          [...at, set[0] ?? ''],
          'the local engine is DOCKER_HOST (or the default socket) with the top-level runtimeDir; it takes no settings: declare another engine for another address',
          'key',
        );
      continue;
    }
    if (!raw?.host) {
      d.problem(
        at,
        `engine ${name} needs host (unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://user@host)`,
        'key',
      );
      continue;
    }
    if (!raw.runtimeDir) {
      d.problem(
        at,
        `engine ${name} needs runtimeDir: an absolute path on that engine's host under which its agents' working directories live`,
        'key',
      );
      continue;
    }
    const problem = hostProblem(raw.host, raw.tls !== undefined);
    if (problem) {
      d.problem([...at, 'host'], problem);
      continue;
    }
    const tls = raw.tls && {
      ca: resolve(opts.baseDir, raw.tls.ca),
      cert: resolve(opts.baseDir, raw.tls.cert),
      key: resolve(opts.baseDir, raw.tls.key),
    };
    if (raw.identityFile !== undefined && !raw.host.startsWith('ssh://')) {
      d.problem([...at, 'identityFile'], 'identityFile is for ssh:// engines (the key to log in with)');
      continue;
    }
    const identityFile =
      raw.identityFile === undefined
        ? undefined
        : raw.identityFile.startsWith('~/')
          ? raw.identityFile
          : resolve(opts.baseDir, raw.identityFile);
    engines.push({
      name,
      host: raw.host,
      ...(tls && { tls }),
      ...(identityFile !== undefined && { identityFile }),
      runtimeDir: normalize(raw.runtimeDir).replace(/(.)\/$/, '$1'),
      pos,
    });
  }
  return engines.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What is wrong with an engine's host as written (the schema checked the scheme). */
function hostProblem(host: string, tls: boolean): string | undefined {
  if (host.startsWith('unix://')) {
    if (!isAbsolute(host.slice('unix://'.length))) return 'a unix socket path must be absolute: unix:///path';
    if (tls) return 'tls is for tcp:// engines; a unix socket has no TLS';
    return undefined;
  }
  if (host.startsWith('ssh://')) {
    if (tls) return 'tls is for tcp:// engines; ssh:// is encrypted by ssh';
    return /^ssh:\/\/(?:[^@/\s]+@)?[^@/:\s]+(?::\d+)?$/.test(host)
      ? undefined
      : 'expected ssh://[user@]host[:port]';
  }
  return /^tcp:\/\/(?:\[[0-9a-fA-F:.]+\]|[^@/:\s]+):\d+$/.test(host) ? undefined : 'expected tcp://HOST:PORT';
}

/**
 * `engine:` of the agent declared at `key` (or of `defaults`) names an engine of the file; unknown
 * names are reported where they are written, with the closest known name.
 */
export function checkAgentEngine(
  engine: string | undefined,
  at: FieldPath,
  engines: readonly EngineSpec[],
  d: Diagnostics,
): boolean {
  if (engine === undefined || engines.some((e) => e.name === engine)) return true;
  const names = engines.map((e) => e.name);
  const suggestion = closest(engine, names);
  d.problem(
    at,
    `unknown engine "${engine}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (the file's engines: ${names.join(', ')})`,
  );
  return false;
}
