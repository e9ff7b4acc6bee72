/**
 * Validated data -> DesiredState: built-in defaults, then `defaults:`, then each agent's own
 * settings; replicas expanded; every AgentSpec complete, so that hashing and diffing never depend
 * on defaults applied later.
 */
import { resolve } from 'node:path';
import {
  type AgentSpec,
  type DesiredState,
  type EngineSpec,
  type ImageBuild,
  LOCAL_ENGINE,
  type SecretEnv,
  type SecretSource,
  type SourcePos,
} from '../types.js';
import { checkAgentEngine, readEngines } from './engines.js';
import {
  AGENT_WORK_DIR,
  BASE_ENV,
  DEFAULT_AGENT,
  DEFAULT_NAME_PREFIX,
  DEFAULT_RUNTIME_DIR,
  GVISOR_DEFAULT_PIDS,
  isGvisorName,
  workDirOf,
} from './defaults.js';
import type { Diagnostics } from './diagnostics.js';
import { formatPath } from './field-path.js';
import type { FieldPath } from './field-path.js';
import { toLayer } from './layer.js';
import { egressNetworkName, PROXY_ENV } from '../egress/names.js';
import type { AgentLayer, LayerBuild, LayerSecret } from './layer.js';
import type { RawAgent, RawConfig } from './raw.js';
import { expandReplicas } from './replicas.js';
import { NO_INIT_HEALTHCHECK, resolveHealthcheck } from './healthcheck.js';
import { layerWarnings, NO_AGENTS_WARNING } from './warnings.js';
import { naturalCompare } from '../util/natural-sort.js';

export interface NormalizeOptions {
  /** Absolute path of the config file, or `<stdin>`. */
  file: string;
  /** Directory that a relative runtimeDir is resolved against. */
  baseDir: string;
  /** Used when the file sets no `project`. */
  defaultProject: string;
}

/** A layer with every field that has a default. */
type CompleteLayer = Required<
  Omit<AgentLayer, 'command' | 'user' | 'runtime' | 'build' | 'egress' | 'engine' | 'healthcheck'>
> &
  AgentLayer;

/**
 * The defaults table goes through the same conversion as the file, so there is one source of truth;
 * a mistake in it is a bug, not a config problem. (The unit tests pin the complete result.)
 */
const BUILT_IN = toLayer(DEFAULT_AGENT, [], {
  usable: () => true,
  clean: () => true,
  problem: (path, message) => {
    throw new Error(`invalid built-in default ${formatPath(path)}: ${message}`);
  },
  pos: () => ({ file: '<built-in defaults>', line: 1, col: 1 }),
}) as CompleteLayer;

interface Declared {
  key: string;
  layer: AgentLayer;
}

/** What every agent a key declares shares: its complete layer, its engine, where the key is written. */
interface KeyParts {
  layer: CompleteLayer & { healthcheck: AgentSpec['healthcheck'] };
  engine: EngineSpec;
  pos: SourcePos;
  /** No layer sets pids: the agent has the built-in default for its runtime's name. */
  builtInPids: boolean;
}

export function normalize(data: unknown, opts: NormalizeOptions, d: Diagnostics): DesiredState {
  // An empty document is an empty config; a document of the wrong type has been reported already.
  const root = (isMap(data) && d.usable([]) ? data : {}) as RawConfig;
  const runtimeDir = resolve(opts.baseDir, setting(root, 'runtimeDir', d) ?? DEFAULT_RUNTIME_DIR);
  const namePrefix = setting(root, 'namePrefix', d) ?? DEFAULT_NAME_PREFIX;
  const engines = readEngines(root, { baseDir: opts.baseDir, runtimeDir }, d);
  const defaults = readLayer(root.defaults, ['defaults'], d);
  const declared = declaredAgents(root, d);
  if (declared.length === 0) d.warnAt(d.locator.valuePos(['agents']), NO_AGENTS_WARNING);

  const layers = new Map(declared.map(({ key, layer }) => [key, layer]));
  const replicas = declared.map(({ key, layer }) => ({
    key,
    replicas: layer.replicas ?? defaults.replicas ?? 1,
  }));
  const base = overlay(BUILT_IN, defaults);
  const agents: AgentSpec[] = [];
  const secrets: SecretSource[] = [];
  const positions: [string, SourcePos][] = [];
  const replicaOf: [string, string][] = [];
  const pidsByDefault: string[] = [];
  const builds = new ImageBuilds(opts.baseDir, d);
  const project = setting(root, 'project', d) ?? opts.defaultProject;
  // What depends on the declaring key alone, worked out once per key: a key with 1000 replicas would
  // otherwise repeat it 1000 times (a third of a no-op apply's config load at that size).
  const perKey = new Map<string, KeyParts>();
  const partsOf = (key: string): KeyParts => {
    let parts = perKey.get(key);
    if (parts) return parts;
    const own = layers.get(key) ?? {};
    const layer = overlay(base, own);
    const builtInPids = own.pids === undefined && defaults.pids === undefined;
    if (builtInPids && isGvisorName(layer.runtime)) layer.pids = GVISOR_DEFAULT_PIDS;
    const egressAt: FieldPath = own.egress !== undefined ? ['agents', key, 'egress'] : ['defaults', 'egress'];
    const networkProblem = egressNetworkProblem(layer);
    if (networkProblem) d.problem(egressAt, networkProblem);
    const engine = engineFor(layer, own, key, engines, d);
    const health = resolveHealthcheck(layer.healthcheck, layer.init);
    if ('noInit' in health) {
      // Said where init is turned off: that is what takes the default probe away.
      const initAt: FieldPath = own.init !== undefined ? ['agents', key, 'init'] : ['defaults', 'init'];
      d.warn(initAt, NO_INIT_HEALTHCHECK);
    }
    parts = {
      layer: { ...layer, healthcheck: health.healthcheck },
      engine,
      pos: d.locator.keyPos(['agents', key]),
      builtInPids,
    };
    perKey.set(key, parts);
    return parts;
  };
  for (const [id, key] of expandReplicas(replicas, d)) {
    const { layer, engine, pos, builtInPids } = partsOf(key);
    const { spec, secretSources } = toSpec(id, layer, {
      namePrefix,
      runtimeDir: engine.runtimeDir,
      baseDir: opts.baseDir,
      project,
    });
    if (engine.name !== LOCAL_ENGINE) spec.engine = engine.name;
    agents.push(spec);
    secrets.push(...secretSources);
    positions.push([id, pos]);
    if (id !== key) replicaOf.push([id, key]);
    if (builtInPids) pidsByDefault.push(id);
    if (layer.build)
      builds.add(layer.image, layer.build, id, layers.get(key)?.build ? ['agents', key] : ['defaults']);
  }
  // Natural order (w-1, w-2, w-10) for everything shown; specs are hashed one by one, so order is free.
  agents.sort((a, b) => naturalCompare(a.id, b.id));

  return {
    file: opts.file,
    project,
    runtimeDir,
    ...(engines.length > 1 && { engines }),
    namePrefix,
    agents,
    positions: Object.fromEntries(positions),
    ...(replicaOf.length > 0 && { replicaOf: Object.fromEntries(replicaOf) }),
    builds: builds.sorted(),
    warnings: d.sortedWarnings(),
    ...(secrets.length > 0 && {
      secrets: secrets.sort((a, b) => compare(a.agentId, b.agentId) || compare(a.key, b.key)),
    }),
    ...(pidsByDefault.length > 0 && { builtInPids: pidsByDefault.sort(compare) }),
  };
}

/**
 * The engine an agent runs on (unknown names are reported, and the agent is then placed on `local` so
 * the rest of the file is still checked). What cannot work on another engine yet is refused here, where
 * it is written, rather than carried out weaker: the egress gateway reads its policy file from this
 * host's disk, and builds run on the local engine.
 */
function engineFor(
  layer: CompleteLayer,
  own: AgentLayer,
  key: string,
  engines: readonly EngineSpec[],
  d: Diagnostics,
): EngineSpec {
  const local = engines.find((e) => e.name === LOCAL_ENGINE) as EngineSpec;
  const at: FieldPath = own.engine !== undefined ? ['agents', key, 'engine'] : ['defaults', 'engine'];
  if (!checkAgentEngine(layer.engine, at, engines, d)) return local;
  const engine = engines.find((e) => e.name === layer.engine) ?? local;
  if (engine.name === LOCAL_ENGINE) return engine;
  if (typeof layer.egress === 'object') {
    const egressAt: FieldPath = own.egress !== undefined ? ['agents', key, 'egress'] : ['defaults', 'egress'];
    d.problem(
      egressAt,
      `egress rules on engine ${engine.name} are not supported yet: the egress gateway reads its policy file from this host's disk; run this agent on the local engine, or use egress all or none`,
    );
  }
  if (layer.build) {
    const buildAt: FieldPath = own.build !== undefined ? ['agents', key, 'build'] : ['defaults', 'build'];
    d.problem(
      buildAt,
      `build: for an agent on engine ${engine.name} is not supported yet (images are built on the local engine); build the image on that engine and name it in image:`,
    );
  }
  return engine;
}

/** A top-level setting, when it passed the schema. */
function setting<K extends 'project' | 'runtimeDir' | 'namePrefix'>(
  root: RawConfig,
  key: K,
  d: Diagnostics,
): RawConfig[K] | undefined {
  return d.clean([key]) ? root[key] : undefined;
}

function declaredAgents(root: RawConfig, d: Diagnostics): Declared[] {
  // Where the schema passed, `agents` and each agent are maps or empty (null).
  if (!root.agents || !d.usable(['agents'])) return [];
  return Object.entries(root.agents)
    .filter(([key]) => d.usable(['agents', key]))
    .map(([key, raw]) => ({ key, layer: readLayer(raw, ['agents', key], d) }));
}

/** An empty value (`worker:`) sets nothing. */
function readLayer(raw: RawAgent | null | undefined, at: FieldPath, d: Diagnostics): AgentLayer {
  if (!raw || !d.usable(at)) return {};
  const layer = toLayer(raw, at, d);
  for (const warning of layerWarnings(raw, layer)) d.warn([...at, ...warning.path], warning.message);
  return layer;
}

/** `upper` wins field by field; env, labels and ulimits merge name by name. */
function overlay(lower: CompleteLayer, upper: AgentLayer): CompleteLayer {
  return {
    ...lower,
    ...upper,
    env: { ...lower.env, ...upper.env },
    labels: { ...lower.labels, ...upper.labels },
    ulimits: { ...lower.ulimits, ...upper.ulimits },
  };
}

function toSpec(
  id: string,
  layer: CompleteLayer & { healthcheck: AgentSpec['healthcheck'] },
  fleet: { namePrefix: string; runtimeDir: string; baseDir: string; project: string },
): { spec: AgentSpec; secretSources: SecretSource[] } {
  const {
    replicas: _replicas,
    build: _build,
    engine: _engine,
    egress,
    env,
    labels,
    ulimits,
    tmpfs,
    ...fields
  } = layer;
  // Maps, not objects: a variable may be called `__proto__`.
  const plain = new Map(Object.entries({ ...BASE_ENV, ...(typeof egress === 'object' ? PROXY_ENV : {}) }));
  const secretEnv = new Map<string, SecretEnv>();
  const secretSources: SecretSource[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string') {
      plain.set(key, value);
      continue;
    }
    // A secret replaces a plain value of the same name from a lower layer (or BASE_ENV).
    plain.delete(key);
    const ref = secretRef(value);
    secretEnv.set(key, { ref });
    secretSources.push({
      agentId: id,
      key,
      ref,
      ...(value.fromEnv !== undefined && { fromEnv: value.fromEnv }),
      ...(value.fromFile !== undefined && { fromFile: resolve(fleet.baseDir, value.fromFile) }),
      pos: value.pos,
      where: value.where,
    });
  }
  plain.set('AGENT_ID', id).set('AGENT_WORK_DIR', AGENT_WORK_DIR);
  const spec: AgentSpec = {
    ...fields,
    id,
    name: `${fleet.namePrefix}${id}`,
    env: sortedRecord(Object.fromEntries(plain)),
    labels: sortedRecord(labels),
    ulimits: sortedRecord(ulimits),
    tmpfs: sortedRecord(tmpfs),
    workDir: workDirOf(fleet.runtimeDir, id),
    // Absent when there are none: a spec without secrets hashes exactly as before they existed.
    ...(secretSources.length > 0 && { secretEnv: sortedRecord(Object.fromEntries(secretEnv)) }),
    ...(egress === 'none' && { network: 'none' }),
    ...(typeof egress === 'object' && { network: egressNetworkName(fleet.project), egress }),
  };
  return { spec, secretSources };
}

/**
 * `egress` decides the network: `none` is no network, a policy is the project's internal egress network.
 * Another network written with it would contradict the file, so it is refused rather than ignored.
 */
function egressNetworkProblem(layer: CompleteLayer): string | undefined {
  const egress = layer.egress ?? 'all';
  const raw = layer.capAdd.filter((c) => c === 'NET_RAW' || c === 'NET_ADMIN');
  if (typeof egress === 'object' && raw.length > 0) {
    // The gateway tells agents apart by source address: forging packets would let one pose as another.
    return `an agent with egress rules cannot have ${raw.join(' or ')}: it could forge another agent's address`;
  }
  if (egress === 'all' || layer.network === 'bridge' || (egress === 'none' && layer.network === 'none'))
    return undefined;
  return `egress ${typeof egress === 'string' ? egress : 'with rules'} decides the agent's network: remove network: ${layer.network}`;
}

/** `fromEnv:NAME` or `fromFile:./path`, as written: what messages, plans and labels name. */
function secretRef(secret: LayerSecret): string {
  return secret.fromEnv !== undefined ? `fromEnv:${secret.fromEnv}` : `fromFile:${secret.fromFile ?? ''}`;
}

/**
 * The images the file says how to build. Several agents may share one image (replicas, defaults), but
 * only if they agree on how it is built: one tag cannot hold two builds.
 */
class ImageBuilds {
  private readonly byImage = new Map<string, ImageBuild>();

  constructor(
    private readonly baseDir: string,
    private readonly d: Diagnostics,
  ) {}

  add(image: string, build: LayerBuild, agentId: string, at: FieldPath): void {
    const wanted = {
      image,
      context: resolve(this.baseDir, build.context),
      dockerfile: build.dockerfile,
      args: sortedRecord(build.args),
    };
    const known = this.byImage.get(image);
    if (!known) {
      this.byImage.set(image, { ...wanted, agents: [agentId] });
      return;
    }
    const same =
      known.context === wanted.context &&
      known.dockerfile === wanted.dockerfile &&
      JSON.stringify(known.args) === JSON.stringify(wanted.args);
    if (same) known.agents.push(agentId);
    else
      this.d.problem(
        [...at, 'build'],
        `image "${image}" is already built differently for agent ${known.agents[0]}`,
      );
  }

  sorted(): ImageBuild[] {
    return [...this.byImage.values()].sort((a, b) => compare(a.image, b.image));
  }
}

/** Sorted keys make the spec's JSON (and so its hash) independent of the order in the file. */
function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compare(a, b)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
