/**
 * The agent fields `run` takes as flags, from one table: each row names the agents.yaml field it sets, so
 * a flag's value goes through the same schema and normalization as the file's, and a test checks that
 * every field of the schema is either here or deliberately left out (AGENT_FIELDS_WITHOUT_FLAG).
 */
import { Option } from 'commander';
import type { RawAgent } from '../config/raw.js';
import { formatPath } from '../config/field-path.js';
import { AgentctlError, type ConfigProblem } from '../errors.js';
import { parseEnv } from './env-flags.js';

type Field = keyof RawAgent;

export interface AgentFlag {
  field: Field;
  /** Commander flags, e.g. `--memory <size>`. */
  flags: string;
  description: string;
  /** A single value's parser (a usage error for a bad one); default: the string (or boolean) as given. */
  parse?: (value: string) => unknown;
  /** A repeatable flag: its values, in order, to the field's value. */
  collect?: (values: string[]) => unknown;
}

const repeat = (v: string, prev: string[] = []) => [...prev, v];

/** `K=V` pairs into a map; `what` names the flag in errors. */
function pairs(flag: string, values: string[], sep = '='): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(sep);
    if (i <= 0) throw new AgentctlError('usage', `${flag} takes NAME${sep}VALUE, got "${v}"`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function number(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new AgentctlError('usage', `${flag} must be a number, got "${v}"`);
    return n;
  };
}

export const AGENT_FLAGS: AgentFlag[] = [
  { field: 'image', flags: '--image <ref>', description: 'image (default claude-agent:latest)' },
  {
    field: 'env',
    flags: '-e, --env <KEY=VALUE>',
    description: 'environment variable (repeatable); KEY alone passes ours through',
    collect: (v) => parseEnv(v),
  },
  { field: 'memory', flags: '--memory <size>', description: 'memory limit, e.g. 4g (default 2g; no swap)' },
  { field: 'cpus', flags: '--cpus <n>', description: 'CPU limit (default 2)', parse: number('--cpus') },
  {
    field: 'pids',
    flags: '--pids <n>',
    description: 'process limit (default 1024)',
    parse: number('--pids'),
  },
  {
    field: 'ulimits',
    flags: '--ulimit <name=soft[:hard]>',
    description: 'a ulimit (repeatable), e.g. nofile=1024:2048',
    collect: (v) =>
      Object.fromEntries(
        Object.entries(pairs('--ulimit', v)).map(([name, limit]) => {
          const [soft, hard = soft] = limit.split(':').map(number('--ulimit'));
          return [name, { soft: soft ?? 0, hard: hard ?? 0 }];
        }),
      ),
  },
  {
    field: 'tmpfs',
    flags: '--tmpfs <path=size>',
    description: 'an in-memory mount (repeatable), e.g. /scratch=200m',
    collect: (v) => pairs('--tmpfs', v),
  },
  {
    field: 'readOnly',
    flags: '--no-read-only',
    description: 'a writable root filesystem (default read-only)',
  },
  {
    field: 'network',
    flags: '--network <name>',
    description: 'bridge (default), none, host or a network name',
  },
  {
    field: 'egress',
    flags: '--egress <all|none>',
    description: 'all (default: the network decides) or none (no network)',
  },
  {
    field: 'capabilities',
    flags: '--cap-add <cap>',
    description: "add a capability of Docker's default set (repeatable)",
    collect: (v) => ({ add: v }),
  },
  {
    field: 'noNewPrivileges',
    flags: '--no-no-new-privileges',
    description: 'allow setuid programs to raise privileges (default: they cannot)',
  },
  {
    field: 'user',
    flags: '-u, --user <user>',
    description: "user (name or uid, optionally :group; default the image's)",
  },
  { field: 'init', flags: '--no-init', description: 'no init process (default: one reaps zombies)' },
  {
    field: 'restart',
    flags: '--restart <policy>',
    description: 'no, always, unless-stopped (default), on-failure',
  },
  {
    field: 'labels',
    flags: '-l, --label <KEY=VALUE>',
    description: 'a container label (repeatable)',
    collect: (v) => pairs('--label', v),
  },
  {
    field: 'runtime',
    flags: '--runtime <name>',
    description: "OCI runtime, e.g. runsc (default the engine's)",
  },
];

/** Fields of the schema with no flag, and why. */
export const AGENT_FIELDS_WITHOUT_FLAG: Partial<Record<Field, string>> = {
  command: 'the operands after --',
  replicas: 'run makes one agent',
  healthcheck:
    'a structured probe (command, interval, timeout, retries); run keeps the default probe, a file sets another',
  build: 'run uses an image; agentctl build or a file builds one',
  engine: 'run uses the engine of DOCKER_HOST',
  state: 'run starts its agent (agentctl stop stops it)',
  logs: 'a driver with options: write it in a file',
};

/** The commander option of a row (repeatable ones collect their values). */
export function agentFlagOption(f: AgentFlag): Option {
  const o = new Option(f.flags, f.description);
  if (f.collect) o.argParser(repeat);
  else if (f.parse) o.argParser(f.parse);
  return o;
}

/** Commander's property name for a row's flag (`--no-read-only` -> readOnly, `--cap-add` -> capAdd). */
export function flagKey(f: AgentFlag): string {
  const long =
    /--(?:no-)?([a-z-]+)/.exec(f.flags.split(/[ ,]+/).find((x) => x.startsWith('--')) ?? '')?.[1] ?? '';
  return long.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The agent fields the given flags set (only those given on the command line). */
export function agentFieldsOf(
  opts: Record<string, unknown>,
  given: (key: string) => boolean,
): Partial<RawAgent> {
  const fields: Partial<RawAgent> = {};
  for (const f of AGENT_FLAGS) {
    const key = flagKey(f);
    if (!given(key) || opts[key] === undefined) continue;
    const value = f.collect ? f.collect(opts[key] as string[]) : opts[key];
    (fields as Record<string, unknown>)[f.field] = value;
  }
  return fields;
}

/** The flag of a field, for messages (`agents.x.memory: ...` -> `--memory: ...`). */
export function flagOfField(field: string): string | undefined {
  const f = AGENT_FLAGS.find((x) => x.field === field);
  return f ? `--${/--(?:no-)?([a-z-]+)/.exec(f.flags)?.[1] ?? field}` : undefined;
}

/** run's own flags for the top-level fields it sets. */
const TOP_LEVEL_FLAGS: Record<string, string> = { project: '--project', runtimeDir: '--runtime-dir' };

/**
 * A problem of the config run made from its (one agent's) flags, said of the flag that set the field
 * (`['agents', 'x', 'memory']` -> `--memory: expected a size like 512m`); undefined for a field no flag
 * sets. The library reports the field path (ConfigProblem.path), never a position in text nobody wrote.
 */
export function flagProblem(p: ConfigProblem): string | undefined {
  if (p.path === undefined || p.reason === undefined) return undefined;
  // run declares one agent: any agents.<id> path is its.
  const [top, , field, ...sub] = p.path;
  if (top === 'agents' && typeof field === 'string') {
    const flag = field === 'command' ? 'the command' : flagOfField(field);
    return flag && `${flag}${sub.length > 0 ? ` ${formatPath(sub)}` : ''}: ${p.reason}`;
  }
  const flag = p.path.length === 1 && typeof top === 'string' ? TOP_LEVEL_FLAGS[top] : undefined;
  return flag && `${flag}: ${p.reason}`;
}
