/**
 * start, stop, restart and rm of agents named by id. Every id is resolved before anything is done, so a
 * typo or an ambiguous id changes nothing; then each agent is worked on independently and reported.
 */
import path from 'node:path';
import { ID_PATTERN } from '../config/rules.js';
import type { DockerPort } from '../docker/port.js';
import { AgentctlError, toAgentctlError, WatcherWouldUndoError } from '../errors.js';
import { assertNoSymlinks, WORKDIRS } from '../reconcile/workdir.js';
import { mapLimit } from '../util/concurrency.js';
import type { HostFs } from '../docker/host-fs.js';
import { type LocatedAgent, type LocateOptions, locateAgent } from './locate-agent.js';
import { lockProjects } from './project-locks.js';
import { type LifecycleAction, undoneByWatchers } from './watcher-guard.js';
import {
  enginesMountSnapshot,
  inUseReason,
  type MountingEngine,
  type UnansweredEngine,
  unansweredReason,
  usersOf,
  workDirUsers,
} from './workdir-in-use.js';
import { hasOtherEngines } from '../fleet/engines-of.js';
import { engineMachines } from '../fleet/engine-machines.js';
import { openFileEngines } from '../fleet/open-engines.js';
import { sameHostAs } from '../fleet/same-host.js';
import { portOf } from './context.js';

export interface LifecycleOptions extends LocateOptions {
  /** Resolve ids in this project only (otherwise: among every agent we manage). */
  project?: string;
  /** Grace period before a stopping container is killed (default 10). */
  stopTimeoutSeconds?: number;
  /**
   * Act even where a watcher (`apply --watch`) of the project would undo it within a second; otherwise
   * that is a WatcherWouldUndoError and nothing is done. The results then say so in `warning`.
   */
  force?: boolean;
  /** Where project locks live (default: lockDir()); a watcher is found from its lock. */
  lockDir?: string;
}

export interface RemoveOptions extends LifecycleOptions {
  /** Also delete each agent's working directory (never through a symlink). */
  removeData?: boolean;
  /** How long to wait for a run holding a project's lock (default 0: fail at once). */
  lockWaitMs?: number;
}

export interface LifecycleResult {
  agent: string;
  project: string;
  container: string;
  ok: boolean;
  error?: string;
  /** Done, but a watcher of the project will undo it (only with `force`). */
  warning?: string;
}

export interface RemoveResult extends LifecycleResult {
  /** The working directory deleted with --data, and what it held. */
  removedData?: string;
  freedBytes?: number;
}

const PARALLEL = 4;

export function startAgents(ids: string[], opts: LifecycleOptions = {}): Promise<LifecycleResult[]> {
  return forEachAgent(ids, opts, 'start', (port, a) => port.startContainer(a.id));
}

export function stopAgents(ids: string[], opts: LifecycleOptions = {}): Promise<LifecycleResult[]> {
  return forEachAgent(ids, opts, 'stop', (port, a) =>
    port.stopContainer(a.id, opts.stopTimeoutSeconds ?? 10),
  );
}

export function restartAgents(ids: string[], opts: LifecycleOptions = {}): Promise<LifecycleResult[]> {
  return forEachAgent(ids, opts, 'restart', (port, a) =>
    port.restartContainer(a.id, opts.stopTimeoutSeconds ?? 10),
  );
}

/** Removes the agents' containers; their working directories stay unless `removeData`. */
export async function removeAgents(ids: string[], opts: RemoveOptions = {}): Promise<RemoveResult[]> {
  const agents = await resolveAll(ids, opts);
  // Like apply and down, removal holds each project's lock, so it never interleaves with an apply.
  const release = await lockProjects(
    agents.map((a) => a.project),
    opts.lockWaitMs,
  );
  try {
    return await mapLimit(agents, PARALLEL, async (a): Promise<RemoveResult> => {
      const base = { agent: a.agentId, project: a.project, container: a.name };
      const { port } = a;
      try {
        const workDir = opts.removeData ? (await port.inspectContainer(a.id))?.workDir : undefined;
        await port.stopContainer(a.id, opts.stopTimeoutSeconds ?? 10);
        await port.removeContainer(a.id);
        if (!opts.removeData) return { ...base, ok: true };
        // On the agent's engine's host: the in-use check asks every engine of the file on that host.
        const freed = await removeWorkDir(await sameHostEngines(a, opts), a.host, a.agentId, workDir);
        return { ...base, ok: true, ...freed };
      } catch (err) {
        return { ...base, ok: false, error: toAgentctlError(err).message };
      }
    });
  } finally {
    await release();
  }
}

/**
 * Deletes an agent's working directory, found from its container's /mnt mount. The mount source is
 * engine state, so it is checked before anything is deleted: it must be `<runtimeDir>/agent-working-
 * directory/<id>`, reached without a symlink, and no other container may still mount it, anything in it
 * or anything holding it (see workdir-in-use.ts).
 */
async function removeWorkDir(
  engines: (MountingEngine | UnansweredEngine)[],
  host: HostFs,
  agentId: string,
  workDir: string | undefined,
): Promise<{ removedData?: string; freedBytes?: number }> {
  if (!workDir) return {};
  if (
    !ID_PATTERN.test(agentId) ||
    !path.isAbsolute(workDir) ||
    path.basename(workDir) !== agentId ||
    path.basename(path.dirname(workDir)) !== WORKDIRS
  ) {
    throw new AgentctlError(
      'unsafe',
      `container removed, but its /mnt source ${workDir} is not <runtimeDir>/${WORKDIRS}/${agentId}; not deleting it`,
    );
  }
  const runtimeDir = path.dirname(path.dirname(workDir));
  await assertNoSymlinks(runtimeDir, workDir, host);
  const users = await usersOn(engines, workDir);
  if (users.length > 0) {
    throw new AgentctlError(
      'unsafe',
      `container removed, but ${workDir} is ${inUseReason(users)}; not deleting it`,
    );
  }
  const st = await host.lstat(workDir).catch(() => undefined);
  if (!st) return {};
  if (st.type !== 'directory')
    throw new AgentctlError('unsafe', `${workDir} is not a directory; not deleting it`);
  const usage = await host.diskUsage(workDir);
  await host.removeTree(workDir);
  return { removedData: workDir, freedBytes: usage?.bytes ?? 0 };
}

/**
 * The engines whose containers could mount the agent's working directory: its own, and with a file of
 * engines every other engine of it on the same machine (two dockerds of one host share its disk). One
 * that cannot even be opened is kept with its message: the directory is then not deleted.
 */
async function sameHostEngines(
  a: LocatedAgent,
  opts: RemoveOptions,
): Promise<(MountingEngine | UnansweredEngine)[]> {
  const own: MountingEngine = { name: a.engine, port: a.port, host: a.host };
  if (!hasOtherEngines(opts.desired)) return [own];
  const { open, failed } = await openFileEngines(opts.desired, portOf(opts));
  const all = [...open, ...failed.map((f) => ({ name: f.spec.name, spec: f.spec, message: f.message }))];
  return sameHostAs({ name: a.engine }, all, await engineMachines(all)).map((e) => {
    if (e.name === a.engine) return own;
    return 'port' in e ? { name: e.name, port: e.port, host: e.host } : { name: e.name, message: e.message };
  });
}

/** Who mounts `dir` on these engines (named by engine when there are several); throws when one cannot say. */
async function usersOn(engines: (MountingEngine | UnansweredEngine)[], dir: string): Promise<string[]> {
  const lost = engines.filter((e): e is UnansweredEngine => 'message' in e);
  const open = engines.filter((e): e is MountingEngine => 'port' in e);
  if (open.length === 1 && lost.length === 0) return workDirUsers(open[0]!.port, dir, open[0]!.host);
  const { snapshot, unanswered } = await enginesMountSnapshot(open);
  lost.push(...unanswered);
  if (lost.length > 0)
    throw new AgentctlError(
      'engine-unreachable',
      `container removed, but ${unansweredReason(
        lost.map((l) => l.name),
        dir,
      )}; not deleting it`,
      { details: lost.map((l) => `  ${l.message}`) },
    );
  return usersOf(snapshot, dir);
}

async function forEachAgent(
  ids: string[],
  opts: LifecycleOptions,
  action: LifecycleAction,
  act: (port: DockerPort, agent: LocatedAgent) => Promise<void>,
): Promise<LifecycleResult[]> {
  const agents = await resolveAll(ids, opts);
  // Checked before anything is done: a change a watcher undoes a second later is refused as a whole.
  const undone = await undoneByWatchers(agents, action, opts.lockDir);
  const first = undone[0];
  if (first && !opts.force) {
    throw new WatcherWouldUndoError({
      project: first.project,
      pid: first.watcher.pid,
      since: first.watcher.since,
      file: first.watcher.file,
      agents: first.agents,
      action,
    });
  }
  const warnings = new Map<string, string>();
  for (const u of undone) {
    for (const id of u.agents) {
      warnings.set(
        `${u.project}/${id}`,
        `watcher pid ${u.watcher.pid} (apply --watch of ${u.watcher.file}) will ${action === 'stop' ? 'start' : 'stop'} it again`,
      );
    }
  }
  return mapLimit(agents, PARALLEL, async (a) => {
    const base = { agent: a.agentId, project: a.project, container: a.name };
    const warning = warnings.get(`${a.project}/${a.agentId}`);
    try {
      await act(a.port, a);
      return { ...base, ok: true, ...(warning ? { warning } : {}) };
    } catch (err) {
      return { ...base, ok: false, error: toAgentctlError(err).message };
    }
  });
}

/**
 * Every id resolved on its engine (in the order given, each container once), or the first failure
 * thrown.
 */
export async function resolveAll(ids: string[], opts: LocateOptions): Promise<LocatedAgent[]> {
  if (ids.length === 0) throw new AgentctlError('usage', 'name at least one agent');
  const settled = await Promise.allSettled(ids.map((id) => locateAgent(id, opts)));
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [toAgentctlError(s.reason)] : []));
  const [first, ...more] = errors;
  if (first) {
    if (more.length === 0) throw first;
    // Several bad ids: name them all at once, so one run shows every typo.
    throw new AgentctlError(first.kind, first.message, {
      details: [...first.details, ...more.flatMap((e) => [e.message, ...e.details])],
    });
  }
  const resolved = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const seen = new Set<string>();
  return resolved.filter((a) => !seen.has(`${a.engine}/${a.id}`) && seen.add(`${a.engine}/${a.id}`));
}
