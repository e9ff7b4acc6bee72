/**
 * Secrets by reference: reading each `fromEnv` / `fromFile` value when applying, keeping the values in
 * a SecretValues, and putting only a keyed digest into the specs. Messages name the reference and where
 * it is written, never a value.
 */
import { constants, promises as fs } from 'node:fs';
import { AgentctlError, formatAt } from '../errors.js';
import type { AgentSpec, DesiredState, SecretSource } from '../types.js';
import { secretDigest } from './digest-key.js';
import { SecretValues } from './values.js';

/** A secret file is a token or a password, not data: this bounds what is read into memory and Env. */
const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretProblem {
  source: SecretSource;
  /** `file:line:col: agents.x.env.K: ...`, naming the reference only. */
  message: string;
}

export interface ResolvedSecrets {
  /** The same state, each secret of each spec carrying its digest. */
  desired: DesiredState;
  values: SecretValues;
}

/**
 * Reads every reference; any that cannot be read is an error (kind `config`) listing them all, thrown
 * before anything is changed. `env` is agentctl's own environment.
 */
export async function resolveSecrets(
  desired: DesiredState,
  key: Buffer,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedSecrets> {
  const sources = desired.secrets ?? [];
  const values = new SecretValues();
  if (sources.length === 0) return { desired, values };
  const problems: SecretProblem[] = [];
  const digests = new Map<string, string>();
  // One read per reference, even when replicas or defaults share it.
  const cache = new Map<string, Promise<string | SecretProblem>>();
  for (const source of sources) {
    const id = source.fromEnv !== undefined ? `env\0${source.fromEnv}` : `file\0${source.fromFile}`;
    let pending = cache.get(id);
    if (!pending) cache.set(id, (pending = readSecret(source, env)));
    const result = await pending;
    if (typeof result !== 'string') {
      problems.push({ source, message: problemAt(source, result.message) });
      continue;
    }
    values.set(source.agentId, source.key, result);
    digests.set(`${source.agentId}\0${source.key}`, secretDigest(key, result));
  }
  if (problems.length > 0) throw secretsError(problems);
  return {
    desired: { ...desired, agents: desired.agents.map((spec) => withDigests(spec, digests)) },
    values,
  };
}

/** The references that cannot be resolved now, without keeping any value (for `validate`). */
export async function unresolvedSecrets(
  desired: DesiredState,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretProblem[]> {
  const out: SecretProblem[] = [];
  const seen = new Set<string>();
  for (const source of desired.secrets ?? []) {
    const result = await readSecret(source, env);
    if (typeof result === 'string') continue;
    const message = problemAt(source, result.message);
    if (seen.has(message)) continue; // replicas share the reference, and its line
    seen.add(message);
    out.push({ source, message });
  }
  return out;
}

export function secretsError(problems: readonly SecretProblem[]): AgentctlError {
  const unique = [...new Set(problems.map((p) => p.message))];
  return new AgentctlError(
    'config',
    `${unique.length === 1 ? 'a secret reference cannot' : `${unique.length} secret references cannot`} be resolved, nothing was changed: ${unique[0] ?? ''}`,
    { details: unique.slice(1) },
  );
}

function problemAt(source: SecretSource, message: string): string {
  return formatAt(source.pos, `${source.where}: ${source.ref}: ${message}`);
}

async function readSecret(source: SecretSource, env: NodeJS.ProcessEnv): Promise<string | SecretProblem> {
  const problem = (message: string): SecretProblem => ({ source, message });
  if (source.fromEnv !== undefined) {
    const value = env[source.fromEnv];
    if (value === undefined) return problem(`${source.fromEnv} is not set in agentctl's environment`);
    if (value === '') return problem(`${source.fromEnv} is empty in agentctl's environment`);
    return value;
  }
  const file = source.fromFile ?? '';
  let text: string;
  try {
    const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await handle.stat();
      if (!st.isFile()) return problem(`${file} is not a regular file`);
      if (st.size > MAX_SECRET_BYTES)
        return problem(
          `${file} is larger than ${MAX_SECRET_BYTES / 1024} KiB; a secret file holds one value`,
        );
      text = (await handle.readFile()).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (code ?? 'cannot be read');
    return problem(`${file}: ${reason}`);
  }
  // `echo token > file` and editors add a final newline that is not part of the value.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return problem(`${file} is empty`);
  // The engine passes Env as C strings: a NUL would cut the value short without a word.
  if (value.includes('\0'))
    return problem(`${file} contains a NUL byte, which an environment variable cannot hold`);
  return value;
}

function withDigests(spec: AgentSpec, digests: ReadonlyMap<string, string>): AgentSpec {
  if (!spec.secretEnv) return spec;
  const secretEnv = Object.fromEntries(
    Object.entries(spec.secretEnv).map(([key, s]) => [
      key,
      { ...s, digest: digests.get(`${spec.id}\0${key}`) },
    ]),
  );
  return { ...spec, secretEnv };
}
