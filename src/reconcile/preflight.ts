/**
 * Checks that must pass before any change is made, so a predictable failure stops the run before it
 * half-applies. Read-only: it looks at the engine and the filesystem.
 *
 * Most problems belong to agents (an image missing, limits above the host's, a name taken, a network or
 * runtime the engine lacks): `preflightProblems` says which, so the watch controller can withhold those
 * agents and still apply the others. `preflight` is the one-shot rule: any problem refuses the whole run.
 */
import { type FreeSpaceMinimum, freeSpaceProblem } from './free-space.js';
import path from 'node:path';
import type { DockerPort, NetworkInfo } from '../docker/port.js';
import type { HostFs } from '../docker/host-fs.js';
import { podmanHealthcheckProblem } from '../docker/podman.js';
import { localHostFs } from '../docker/local-host-fs.js';
import { AgentctlError, formatAt } from '../errors.js';
import type { AgentSpec, DesiredState, EngineInfo, ObservedState, Plan, RuntimeTraits } from '../types.js';
import { GVISOR_DEFAULT_PIDS } from '../config/defaults.js';
import { formatBytes, formatCpus } from '../render/units.js';
import { assertNoSymlinks, WORKDIRS } from './workdir.js';
import { egressNetworkName } from '../egress/names.js';
import type { RunProblem } from './guards.js';
import { networkRoomProblems, roomNetworks } from './network-room.js';

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

/** One thing found wrong (see RunProblem: only a conflict's carries an optIn, a migration's). */
export type PreflightProblem = RunProblem;

export interface PreflightOptions {
  /** Images a dry run would build first: not missing. */
  willBuild?: ReadonlySet<string>;
  /** Images whose build failed just now -> the build's error: said instead of "not present". */
  failedBuilds?: ReadonlyMap<string, string>;
  /** Free space and inodes a run that creates containers needs (default: the environment's). */
  minFree?: FreeSpaceMinimum;
  /** The filesystem of the engine's host (default: this host's); desired.runtimeDir is a path there. */
  host?: HostFs;
}

/** Throws one error listing every problem found. */
export async function preflight(
  desired: DesiredState,
  observed: ObservedState,
  p: Plan,
  port: DockerPort,
  engine: EngineInfo,
  opts: PreflightOptions = {},
): Promise<void> {
  const problems = await preflightProblems(desired, observed, p, port, engine, opts);
  if (problems.length > 0) throw preflightError(problems);
}

/** The error a run refused for `problems` fails with. */
export function preflightError(problems: readonly PreflightProblem[]): AgentctlError {
  const lines = problems.map((x) => x.message);
  // The hint goes on the line it belongs to: the first (the CLI adds it to the message).
  const optIn = problems[0]?.optIn;
  return new AgentctlError('preflight', `preflight failed, nothing was changed: ${lines[0] ?? ''}`, {
    details: lines.slice(1),
    ...(optIn !== undefined && { optIn }),
  });
}

/** Every problem with carrying out `p`, each with the agents it concerns. */
export async function preflightProblems(
  desired: DesiredState,
  observed: ObservedState,
  p: Plan,
  port: DockerPort,
  engine: EngineInfo,
  opts: PreflightOptions = {},
): Promise<PreflightProblem[]> {
  const willBuild = opts.willBuild ?? new Set<string>();
  const problems: PreflightProblem[] = p.conflicts.map((c) => ({
    message: formatAt(desired.positions[c.agentId], c.message),
    agents: [c.agentId],
    ...(c.optIn !== undefined && { optIn: c.optIn }),
  }));
  const specs = actionSpecs(p);
  const builtInPids = new Set(desired.builtInPids);
  const at = (spec: AgentSpec, msg: string): PreflightProblem => ({
    message: formatAt(desired.positions[spec.id], `agent ${spec.id}: ${msg}`),
    agents: [spec.id],
  });

  for (const spec of specs) {
    if (spec.nanoCpus > engine.ncpu * 1e9) {
      problems.push(at(spec, `cpus ${formatCpus(spec.nanoCpus)} exceeds the engine's ${engine.ncpu} CPUs`));
    }
    if (spec.memoryBytes > engine.memTotalBytes) {
      problems.push(
        at(
          spec,
          `memory ${formatBytes(spec.memoryBytes)} exceeds the engine's ${formatBytes(engine.memTotalBytes)}`,
        ),
      );
    }
    if (spec.runtime !== undefined && !engine.runtimes.includes(spec.runtime)) {
      problems.push(
        at(
          spec,
          `runtime "${spec.runtime}" is not configured on the engine (it has: ${engine.runtimes.join(', ')})`,
        ),
      );
    }
    problems.push(...runtimeProblems(spec, engine, builtInPids).map((m) => at(spec, m)));
    const healthcheck = podmanHealthcheckProblem(spec, engine);
    if (healthcheck !== undefined) problems.push(at(spec, healthcheck));
    if (engine.kind === 'podman' && spec.runtime !== undefined) {
      problems.push(
        at(
          spec,
          `runtime "${spec.runtime}": Podman's Docker-compatible API ignores the runtime a container asks for, so the agent would silently run under Podman's default runtime; remove runtime for this agent, or run it on a dockerd with that runtime registered`,
        ),
      );
    }
  }

  const needContainer = specs.filter((s) =>
    p.actions.some((a) => a.agentId === s.id && (a.kind === 'create' || a.kind === 'recreate')),
  );
  const usersOf = (pick: (s: AgentSpec) => string, value: string) =>
    needContainer.filter((s) => pick(s) === value).map((s) => s.id);

  for (const ref of [...new Set(needContainer.map((s) => s.image))].sort()) {
    if (observed.images[ref] || willBuild.has(ref)) continue;
    const users = usersOf((s) => s.image, ref);
    const buildError = opts.failedBuilds?.get(ref);
    problems.push({
      message: formatAt(
        desired.positions[users[0] ?? ''],
        buildError !== undefined
          ? `image "${ref}" could not be built (needed by ${users.join(', ')}): ${buildError}`
          : `image "${ref}" is not present on the engine (needed by ${users.join(', ')}); declare how to build it (build: { context: ... }), build it yourself (docker build -t ${ref} ...) or docker pull it`,
      ),
      agents: users,
    });
  }

  // One inspect per network says both whether it exists and how much room it has left.
  const egressNet = egressNetworkName(desired.project);
  const mustExist = new Set(needContainer.map((s) => s.network).filter((n) => !BUILTIN_NETWORKS.has(n)));
  const infos = await inspectNetworks(
    [...new Set([...mustExist, ...roomNetworks(desired, p.actions)])]
      // The egress network is made by the plan's own egress steps, before any agent is created on it,
      // and the planner gives its agents their addresses (slots) within its subnet.
      .filter((n) => n !== egressNet)
      .sort(),
    mustExist,
    port,
  );
  for (const [net, info] of infos) {
    if (info !== undefined || !mustExist.has(net)) continue;
    const users = usersOf((s) => s.network, net);
    problems.push({
      message: formatAt(
        desired.positions[users[0] ?? ''],
        `network "${net}" does not exist on the engine (needed by ${users.join(', ')}; docker network create ${net})`,
      ),
      agents: users,
    });
  }
  problems.push(
    ...networkRoomProblems(
      desired,
      p.actions,
      [...infos].flatMap(([network, info]) => (info ? [{ network, info }] : [])),
    ),
  );

  if (needContainer.length > 0)
    problems.push(
      ...(await workDirProblems(
        desired,
        needContainer,
        opts.host ?? localHostFs,
        desired.runtimeDir,
        opts.minFree,
      )),
    );
  return problems;
}

/**
 * Below this, a gVisor sandbox has hardly any room for the agent: its pids cgroup counts gVisor's own
 * threads (about 40-70 idle, ~8 more for each process in the agent), and reaching the limit kills the
 * whole sandbox rather than failing one fork.
 */
export const GVISOR_MIN_PIDS = 128;

/**
 * The runtime the engine runs an agent under: its own, or else the engine's default. Whether it is gVisor
 * is read from its registration (runtimeTraits), never from its name, which is the user's choice.
 */
function effectiveRuntime(spec: AgentSpec, engine: EngineInfo): { said: string; traits?: RuntimeTraits } {
  if (spec.runtime !== undefined)
    return { said: `runtime "${spec.runtime}"`, traits: engine.runtimeTraits[spec.runtime] };
  const name = engine.defaultRuntime;
  return name === undefined
    ? { said: "the engine's default runtime" }
    : { said: `the engine's default runtime "${name}"`, traits: engine.runtimeTraits[name] };
}

/**
 * What the agent's runtime, as the engine registered it, cannot give the agent. `builtInPids`: agents
 * whose pids the file leaves to the built-in default (DesiredState.builtInPids).
 */
function runtimeProblems(spec: AgentSpec, engine: EngineInfo, builtInPids: ReadonlySet<string>): string[] {
  const { said, traits } = effectiveRuntime(spec, engine);
  if (!traits?.gvisor) return [];
  const out: string[] = [];
  if (traits.noNetwork && spec.network !== 'none') {
    out.push(
      `network "${spec.network}" under ${said}: the engine registers that runtime as gVisor with --network=none, so the sandbox would have no network but loopback; set network: none for this agent, or register a gVisor runtime with networking (which on kernels from about 6.7 needs a runsc with google/gvisor#10704 fixed)`,
    );
  }
  if (spec.pids < GVISOR_MIN_PIDS) {
    out.push(
      `pids ${spec.pids} under ${said} (gVisor): its pids limit also counts gVisor's own threads (about 40-70 idle, ~8 per process in the agent), and reaching it kills the whole sandbox; set pids to at least ${GVISOR_MIN_PIDS} (about 70 + 8 x the processes the agent needs)`,
    );
  } else if (builtInPids.has(spec.id) && spec.pids < GVISOR_DEFAULT_PIDS) {
    // Refused, not warned about: the file chose no pids, and gVisor's default is 8192, so this agent
    // would silently get about an eighth of what the same file gives under `runtime: runsc` (~120
    // processes), and going over kills the whole sandbox. A warning scrolls by (watch applies anyway);
    // the fix is one line, and a pids the file sets, even this one, is then kept as written.
    out.push(
      `pids is left to the default ${spec.pids} (runc's), but the agent runs under ${said}, which the engine registers as gVisor: there its pids limit also counts gVisor's own threads (~8 per process in the agent), so that is about ${Math.floor((spec.pids - 70) / 8)} processes before the whole sandbox is killed; set pids for this agent (gVisor's default is ${GVISOR_DEFAULT_PIDS}, about the 1024 processes runc's allows; size it as about 70 + 8 x the processes the agent needs)`,
    );
  }
  return out;
}

/**
 * Each network's info, undefined for one the engine does not have. A network that must exist fails the
 * run when the engine cannot be asked; one looked at for its room only (the default bridge) is then
 * left unjudged.
 */
async function inspectNetworks(
  names: readonly string[],
  mustExist: ReadonlySet<string>,
  port: DockerPort,
): Promise<Map<string, NetworkInfo | undefined>> {
  const infos = await Promise.all(
    names.map((n) =>
      mustExist.has(n) ? port.inspectNetwork(n) : port.inspectNetwork(n).catch(() => undefined),
    ),
  );
  return new Map(names.map((n, i) => [n, infos[i]]));
}

/** Specs of agents the plan will create, recreate or update. */
function actionSpecs(p: Plan): AgentSpec[] {
  const out = new Map<string, AgentSpec>();
  for (const a of p.actions) if ('spec' in a) out.set(a.spec.id, a.spec);
  return [...out.values()];
}

/** Symlinks under runtimeDir and an unwritable runtimeDir, checked without creating anything. */
/** `runtimeDir`: the engine's the specs run on (default the file's top-level one), on this host's disk. */
export async function runtimeDirProblems(
  desired: DesiredState,
  specs: AgentSpec[],
  runtimeDir = desired.runtimeDir,
): Promise<string[]> {
  return (await workDirProblems(desired, specs, localHostFs, runtimeDir)).map((x) => x.message);
}

/**
 * A symlink in an agent's own working directory stops that agent; one above them all (runtimeDir, its
 * agent-working-directory), or a runtimeDir that cannot be written, stops every agent.
 */
async function workDirProblems(
  desired: DesiredState,
  specs: AgentSpec[],
  host: HostFs = localHostFs,
  runtimeDir = desired.runtimeDir,
  minFree?: FreeSpaceMinimum,
): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const shared = path.join(runtimeDir, WORKDIRS);
  const sharedOk = await assertNoSymlinks(runtimeDir, shared, host).then(
    () => true,
    (err: unknown) => {
      problems.push({ message: (err as Error).message, agents: [] });
      return false;
    },
  );
  if (sharedOk) {
    for (const spec of specs) {
      try {
        await assertNoSymlinks(runtimeDir, spec.workDir, host);
      } catch (err) {
        problems.push({
          message: formatAt(desired.positions[spec.id], (err as Error).message),
          agents: [spec.id],
        });
      }
    }
  }
  const space = await host.spaceAt(shared);
  if (!space.isDirectory) {
    problems.push({ message: `runtime directory: ${space.path} exists and is not a directory`, agents: [] });
  } else if (!space.writable) {
    problems.push({ message: `runtime directory: ${space.path} is not writable`, agents: [] });
  } else {
    const disk = freeSpaceProblem(space, minFree);
    if (disk)
      problems.push({ message: `runtime directory: ${disk}; free some, or lower the minimum`, agents: [] });
  }
  return problems;
}
