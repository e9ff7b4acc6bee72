/**
 * The `-o json` shapes of the commands that act on agents (down, cleanup, build, cp, run, start/stop/
 * restart/rm, logs, egress log, render, init) and of `apply --watch`'s event lines, each documented in
 * schemas/output/. They follow the conventions of json.ts: every key present (`null` when a value is not
 * known or does not apply), `project` on every row that names an agent, `agent` for its id.
 */
import type { BuildResult } from '../ops/build.js';
import type { CleanupResult } from '../ops/cleanup.js';
import type { DownResult } from '../ops/down.js';
import type { EgressDecision } from '../ops/egress-log.js';
import type { LifecycleResult, RemoveResult } from '../ops/lifecycle.js';
import type { LogNotice } from '../ops/agent-output.js';
import type { LogAgent, LogLine } from '../ops/multi-logs.js';
import type { RunResult } from '../ops/run.js';
import type { UnreachableEngine } from '../types.js';
import type { WatchEvent } from '../watch/events.js';

/** `down` (schemas/output/down.json); with --dry-run the same lists say what would happen. */
export function downToJson(project: string, dryRun: boolean, r: DownResult): unknown {
  return {
    project,
    dryRun,
    // The egress gateway is the project's, not an agent's: it has no agent id.
    removed: r.removed.map((row) => ({
      agent: row.agent === '' ? null : row.agent,
      container: row.container,
      engine: row.engine ?? 'local',
    })),
    removedData: r.removedData,
    removedDataOn: r.removedDataOn ?? r.removedData.map((path) => ({ engine: 'local', path })),
    keptData: r.keptData.map((k) => ({ path: k.path, reason: k.reason, engine: k.engine ?? 'local' })),
    unreachable: (r.unreachable ?? []).map(unreachableToJson),
  };
}

/** An engine of the file that could not be reached, with the file's agents on it. */
function unreachableToJson(u: UnreachableEngine): unknown {
  return { engine: u.engine, message: u.message, agents: u.agents };
}

/** `cleanup` (schemas/output/cleanup.json); `project` is the one looked at, null for every project. */
export function cleanupToJson(project: string | undefined, r: CleanupResult): unknown {
  return {
    project: project ?? null,
    dryRun: r.dryRun,
    containers: r.containers.map((c) => ({
      project: c.project,
      agent: c.agent,
      container: c.container,
      engine: c.engine,
      state: c.state,
      since: c.since,
      ok: c.ok,
      error: c.error ?? null,
    })),
    directories: r.directories.map((d) => ({
      agent: d.agent,
      path: d.path,
      engine: d.engine,
      bytes: d.bytes,
      modifiedAt: d.modifiedAt,
      ok: d.ok,
      error: d.error ?? null,
    })),
    engines: r.engines.map((e) => ({
      engine: e.engine,
      runtimeDir: e.runtimeDir,
      reachable: e.reachable,
      error: e.error ?? null,
      freedBytes: e.freedBytes,
    })),
    freedBytes: r.freedBytes,
    skipped: r.skipped,
  };
}

/** `build` (schemas/output/build.json): one row per image, in the file's order. */
export function buildToJson(project: string, results: BuildResult[]): unknown {
  return results.map((r) => ({
    project,
    image: r.image,
    ok: r.ok,
    imageId: r.imageId ?? null,
    error: r.error ?? null,
    durationMs: Math.round(r.durationMs),
  }));
}

/** `start`, `stop`, `restart` (schemas/output/lifecycle.json) and `rm` (schemas/output/rm.json). */
export function lifecycleToJson(results: (LifecycleResult | RemoveResult)[], rm: boolean): unknown {
  return results.map((r) => ({
    project: r.project,
    agent: r.agent,
    container: r.container,
    ok: r.ok,
    error: r.error ?? null,
    warning: r.warning ?? null,
    ...(rm && {
      removedData: (r as RemoveResult).removedData ?? null,
      freedBytes: (r as RemoveResult).freedBytes ?? null,
    }),
  }));
}

/**
 * `run` (schemas/output/run.json). A detached agent has no exit code or output yet (null); with a
 * command, `exitCode`, `stdout` and `stderr` are the command's (output decoded as UTF-8).
 */
export function runToJson(r: RunResult, ran?: { exitCode: number; stdout: string; stderr: string }): unknown {
  return {
    project: r.project,
    agent: r.agent,
    container: r.container,
    containerId: r.containerId,
    workDir: r.workDir,
    exitCode: ran?.exitCode ?? null,
    stdout: ran?.stdout ?? null,
    stderr: ran?.stderr ?? null,
  };
}

/** `logs -o json` without -f (schemas/output/logs.json): the agents read, and their lines in time order. */
export function logsToJson(
  agents: readonly LogAgent[],
  lines: readonly LogLine[],
  unreachable: readonly UnreachableEngine[],
): unknown {
  return {
    agents: agents.map(logAgentToJson),
    lines: lines.map(logLineToJson),
    unreachable: unreachable.map(unreachableToJson),
  };
}

/** The first line of `logs -f -o json`: the agents followed. */
export function logAgentsEventToJson(
  agents: readonly LogAgent[],
  unreachable: readonly UnreachableEngine[],
  time: Date,
): unknown {
  return {
    type: 'agents',
    time: time.toISOString(),
    agents: agents.map(logAgentToJson),
    unreachable: unreachable.map(unreachableToJson),
  };
}

function logAgentToJson(a: LogAgent): unknown {
  return {
    agent: a.agent,
    project: a.project,
    container: a.container,
    containerId: a.containerId,
    engine: a.engine,
  };
}

/** One line an agent wrote: an element of `lines`, and a line of its own with -f. */
export function logLineToJson(l: LogLine): unknown {
  return { type: 'line', time: l.time, project: l.project, agent: l.agent, stream: l.stream, text: l.text };
}

/** What happened to a followed agent (`logs -f -o json`), when it was noticed. */
export function logNoticeToJson(n: LogNotice, time: Date): unknown {
  return {
    type: 'notice',
    time: time.toISOString(),
    project: n.project,
    agent: n.agent,
    event: n.event,
    containerId: n.containerId,
    message: n.message,
  };
}

/** One line of `egress log -o json` (schemas/output/egress-log.json). */
export function egressDecisionToJson(project: string, d: EgressDecision): unknown {
  return {
    time: d.time,
    project,
    agent: d.agent,
    source: d.source,
    method: d.method,
    host: d.host,
    port: d.port,
    decision: d.decision,
    rule: d.rule,
    address: d.address ?? null,
    reason: d.reason ?? null,
  };
}

/**
 * One line of `apply --watch -o json` (schemas/output/watch.json): the event with every key of its
 * type present, and `project` on every line (null only before the file was first read).
 */
export function watchEventToJson(e: WatchEvent): unknown {
  const base = { time: e.time, project: e.project ?? null };
  switch (e.type) {
    case 'reconcile':
      return {
        ...base,
        ...e,
        actions: e.actions.map((a) => ({
          ...a,
          error: a.error ?? null,
          attempt: a.attempt ?? null,
          engine: a.engine ?? null,
        })),
      };
    case 'config-error':
      return { ...base, ...e, optIn: e.optIn ?? null };
    case 'error':
      return { ...base, ...e, agents: e.agents ?? null };
    case 'engine':
      return {
        ...base,
        ...e,
        message: e.message ?? null,
        retryInMs: e.retryInMs ?? null,
        engine: e.engine ?? null,
        agents: e.agents ?? null,
      };
    case 'watching':
      return { ...base, ...e, engines: e.engines ?? null };
    default:
      return { ...base, ...e };
  }
}
