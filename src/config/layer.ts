/**
 * One layer of agent settings (the built-in defaults, `defaults:` or one agent's own) converted to
 * AgentSpec units and checked. Layers are merged later (normalize.ts); checking each one where it
 * is written reports a bad default once, at its own line, rather than once per agent.
 */
import { isAbsolute, normalize, sep } from 'node:path';
import type { AgentSpec, EgressPolicy, SourcePos, Ulimit } from '../types.js';
import { parseRule } from '../egress/rules.js';
import { addCapabilityProblem, dropCapabilityProblem, normalizeCapabilities } from './capabilities.js';
import type { Anchor } from './diagnostics.js';
import { formatPath } from './field-path.js';
import type { FieldPath } from './field-path.js';
import type { RawAgent, RawEnvValue, RawScalar, RawUlimit } from './raw.js';
import { tmpfsPathProblem } from './rules.js';
import { convertHealthcheck, type LayerHealthcheck } from './healthcheck.js';
import { formatSize, MEMORY_RANGE, parseSize, sizeProblem, TMPFS_RANGE } from './units.js';
import type { SizeRange } from './units.js';

/** Only the fields the layer sets are present (never as `undefined`: merging relies on it). */
export type AgentLayer = Partial<
  Omit<AgentSpec, 'id' | 'name' | 'workDir' | 'env' | 'secretEnv' | 'egress' | 'healthcheck'>
> & {
  /** As written; the values it leaves out are filled in once the layers are merged (healthcheck.ts). */
  healthcheck?: LayerHealthcheck;
  /** `all`, `none` or a policy (rules checked, sorted, without duplicates). */
  egress?: 'all' | 'none' | EgressPolicy;
  /** Plain values, and secrets by reference (split apart once the layers are merged). */
  env?: Record<string, LayerEnvValue>;
  replicas?: number;
  /** Not part of the container's spec: how its image is made (context still relative to the file). */
  build?: LayerBuild;
};

export type LayerEnvValue = string | LayerSecret;

/** A secret reference as written, with where it is written (the value is read only when applying). */
export interface LayerSecret {
  fromEnv?: string;
  /** As written: relative to the file's directory. */
  fromFile?: string;
  pos: SourcePos;
  where: string;
}

export interface LayerBuild {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
}

/**
 * A converter is only called when its field's value has the type the schema gives it (`usable`).
 * Entries inside it may still have failed the schema: converters that check entries themselves, or
 * that would trip over a wrong type, look only at the `clean` ones; the others were reported already.
 */
export interface LayerChecks {
  usable(path: FieldPath): boolean;
  clean(path: FieldPath): boolean;
  problem(path: FieldPath, message: string, anchor?: Anchor): void;
  /** Where the value at `path` is written. */
  pos(path: FieldPath): SourcePos;
}

type RawFields = { [K in keyof RawAgent]-?: NonNullable<RawAgent[K]> };
type Converters = {
  [K in keyof RawFields]: (value: RawFields[K], path: FieldPath, checks: LayerChecks) => AgentLayer;
};

const CONVERTERS: Converters = {
  image: (image) => ({ image }),
  command: (command) => ({ command: [...command] }),
  env: (env, path, checks) => ({ env: convertEnv(env, path, checks) }),
  memory: (memory, path, checks) => {
    const memoryBytes = checkedSize(memory, MEMORY_RANGE, path, checks);
    return memoryBytes === undefined ? {} : { memoryBytes };
  },
  cpus: (cpus) => ({ nanoCpus: Math.round(cpus * 1e9) }),
  pids: (pids) => ({ pids }),
  ulimits: (ulimits, path, checks) => ({ ulimits: convertUlimits(ulimits, path, checks) }),
  tmpfs: (tmpfs, path, checks) => ({ tmpfs: convertTmpfs(tmpfs, path, checks) }),
  readOnly: (readOnly) => ({ readOnly }),
  network: (network) => ({ network }),
  capabilities: (capabilities, path, checks) => ({
    ...(capabilities.add && {
      capAdd: checkedCapabilities(capabilities.add, [...path, 'add'], checks, addCapabilityProblem),
    }),
    ...(capabilities.drop && {
      capDrop: checkedCapabilities(capabilities.drop, [...path, 'drop'], checks, dropCapabilityProblem),
    }),
  }),
  noNewPrivileges: (noNewPrivileges) => ({ noNewPrivileges }),
  user: (user) => ({ user: String(user) }),
  init: (init) => ({ init }),
  logs: (logs) => ({ logs: { driver: logs.driver, options: stringRecord(logs.options ?? {}) } }),
  restart: (restart) => ({ restart }),
  state: (state) => ({ state }),
  labels: (labels) => ({ labels: stringRecord(labels) }),
  replicas: (replicas) => ({ replicas }),
  runtime: (runtime) => ({ runtime }),
  engine: (engine) => ({ engine }),
  healthcheck: (healthcheck, path, checks) => {
    // A map with a mistyped entry has been reported; the other entries still convert.
    if (typeof healthcheck === 'object' && !checks.clean(path)) {
      const clean = Object.fromEntries(
        Object.entries(healthcheck).filter(([key]) => checks.clean([...path, key])),
      );
      return { healthcheck: convertHealthcheck(clean, path, checks) };
    }
    return { healthcheck: convertHealthcheck(healthcheck, path, checks) };
  },
  egress: (egress, path, checks) => {
    if (typeof egress === 'string') return { egress };
    if (!checks.clean(path)) return {};
    const rules = (list: readonly string[], at: FieldPath) => {
      list.forEach((rule, i) => {
        const parsed = parseRule(rule);
        if (typeof parsed === 'string') checks.problem([...at, i], parsed);
      });
      return [...new Set(list.map((r) => r.trim().toLowerCase()))].sort();
    };
    return {
      egress: {
        allow: rules(egress.allow, [...path, 'allow']),
        deny: rules(egress.deny ?? [], [...path, 'deny']),
      },
    };
  },
  build: (build, path, checks) => {
    // A build with a missing or mistyped entry has been reported; half a build is no build.
    if (!checks.clean(path)) return {};
    const dockerfile = build.dockerfile ?? 'Dockerfile';
    const problem = dockerfileProblem(dockerfile);
    if (problem !== undefined) {
      checks.problem([...path, 'dockerfile'], problem);
      return {};
    }
    return { build: { context: build.context, dockerfile, args: stringRecord(build.args ?? {}) } };
  },
};

/** The engine reads the Dockerfile from inside the build context, so it must be a path within it. */
function dockerfileProblem(dockerfile: string): string | undefined {
  if (isAbsolute(dockerfile) || normalize(dockerfile).split(sep).includes('..')) {
    return `must be a path inside the build context, got "${dockerfile}"`;
  }
  return undefined;
}

const FIELDS = Object.keys(CONVERTERS) as (keyof RawAgent)[];

/** `at` is where `raw` is in the file (`['defaults']`, `['agents', 'worker']`). */
export function toLayer(raw: RawAgent, at: FieldPath, checks: LayerChecks): AgentLayer {
  return Object.assign({}, ...FIELDS.map((field) => convertField(field, raw, at, checks))) as AgentLayer;
}

function convertField<K extends keyof RawFields>(
  field: K,
  raw: RawAgent,
  at: FieldPath,
  checks: LayerChecks,
): AgentLayer {
  // RawAgent's fields are optional rather than nullable: null only gets here where the schema failed.
  const value = (raw as Partial<RawFields>)[field];
  const path = [...at, field];
  if (value === undefined || !checks.usable(path)) return {};
  return CONVERTERS[field](value, path, checks);
}

function checkedSize(
  value: unknown,
  range: SizeRange,
  path: FieldPath,
  checks: LayerChecks,
): number | undefined {
  const problem = sizeProblem(value, range);
  if (problem === undefined) return parseSize(value);
  checks.problem(path, problem);
  return undefined;
}

function convertUlimits(
  ulimits: Record<string, RawUlimit>,
  path: FieldPath,
  checks: LayerChecks,
): Record<string, Ulimit> {
  const valid = cleanEntries(ulimits, path, checks).flatMap(([name, value]): [string, Ulimit][] => {
    const limit =
      typeof value === 'number' ? { soft: value, hard: value } : { soft: value.soft, hard: value.hard };
    if (limit.soft <= limit.hard) return [[name, limit]];
    checks.problem([...path, name, 'soft'], `soft limit ${limit.soft} is above the hard limit ${limit.hard}`);
    return [];
  });
  return Object.fromEntries(valid);
}

function convertTmpfs(
  tmpfs: Record<string, string | number>,
  path: FieldPath,
  checks: LayerChecks,
): Record<string, string> {
  const valid = cleanEntries(tmpfs, path, checks).flatMap(([mount, size]): [string, string][] => {
    const pathProblem = tmpfsPathProblem(mount);
    if (pathProblem !== undefined) checks.problem([...path, mount], pathProblem, 'key');
    const bytes = checkedSize(size, TMPFS_RANGE, [...path, mount], checks);
    if (pathProblem !== undefined || bytes === undefined) return [];
    return [[mount, `rw,noexec,nosuid,size=${formatSize(bytes)}`]];
  });
  return Object.fromEntries(valid);
}

/**
 * The schema already limits what may be added; checking again here keeps that security rule true
 * even if the schema is ever loosened.
 */
function checkedCapabilities(
  names: readonly string[],
  path: FieldPath,
  checks: LayerChecks,
  problemOf: (name: string) => string | undefined,
): string[] {
  if (!checks.usable(path)) return [];
  const valid = names.filter((name, index) => {
    if (!checks.clean([...path, index])) return false;
    const problem = problemOf(name);
    if (problem !== undefined) checks.problem([...path, index], problem);
    return problem === undefined;
  });
  return normalizeCapabilities(valid);
}

function cleanEntries<T>(record: Record<string, T>, path: FieldPath, checks: LayerChecks): [string, T][] {
  return Object.entries(record).filter(([key]) => checks.clean([...path, key]));
}

function convertEnv(
  env: Record<string, RawEnvValue>,
  path: FieldPath,
  checks: LayerChecks,
): Record<string, LayerEnvValue> {
  return Object.fromEntries(
    cleanEntries(env, path, checks).map(([name, value]): [string, LayerEnvValue] => {
      if (typeof value !== 'object') return [name, String(value)];
      const at = [...path, name];
      return [name, { ...value, pos: checks.pos(at), where: formatPath(at) }];
    }),
  );
}

/** Numbers and booleans are written unquoted in YAML but are strings to Docker. */
function stringRecord(values: Record<string, RawScalar>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)]));
}
