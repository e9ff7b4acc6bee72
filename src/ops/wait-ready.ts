/**
 * After apply has created, recreated, started or unpaused agents: do they stay up? A container the engine
 * started can exit a moment later (a bad command, a missing library, a full disk) and, with a restart
 * policy, loop; `start` returning is no proof. This waits a settle time, then looks at each such agent
 * once: it must be running, not restarting, and started no later than apply started it (a later start
 * means the engine restarted it), and not unhealthy (its healthcheck failed `retries` times in a row;
 * `starting` is fine). One that is not fails its action, with its exit code, restart count or last probe,
 * and last log lines, so apply exits 1 instead of saying "fine".
 */
import { Demultiplexer } from '../docker/multiplex.js';
import type { DockerPort } from '../docker/port.js';
import type { ActionResult } from '../types.js';
import { mapLimit } from '../util/concurrency.js';
import { probeText } from '../reconcile/plan.js';

/** Log lines shown for an agent that did not stay up. */
export const LAST_LOG_LINES = 10;

/** Actions after which the agent should be running. */
export function shouldBeRunning(r: ActionResult): boolean {
  if (!r.ok || !r.containerId) return false;
  const a = r.action;
  if (a.kind === 'start' || a.kind === 'unpause') return true;
  return (a.kind === 'create' || a.kind === 'recreate') && a.spec.state === 'running';
}

export interface WaitReadyOptions {
  settleMs: number;
  /** Inspections at once. */
  parallel?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Returns `results` with the action of every agent that did not stay up marked failed (same order).
 * `finishedAt[i]` is when results[i]'s action completed (host clock, ms since the epoch).
 */
export async function waitReady(
  results: ActionResult[],
  finishedAt: number[],
  port: DockerPort,
  opts: WaitReadyOptions,
): Promise<ActionResult[]> {
  const watched = results.map((r, i) => ({ r, i })).filter(({ r }) => shouldBeRunning(r));
  if (watched.length === 0 || opts.settleMs <= 0) return results;
  await (opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(opts.settleMs);
  const verdicts = await mapLimit(watched, opts.parallel ?? 16, async ({ r, i }) => ({
    i,
    problem: await notUp(port, r.containerId as string, finishedAt[i] ?? Date.now()),
  }));
  const out = [...results];
  for (const { i, problem } of verdicts) {
    const r = out[i];
    if (problem && r) out[i] = { ...r, ok: false, error: problem, notReady: true };
  }
  return out;
}

/** Why the container did not stay up since `since`, or undefined if it did. */
async function notUp(port: DockerPort, id: string, since: number): Promise<string | undefined> {
  let d = await port.inspectContainer(id);
  if (!d) return 'the container was removed while apply waited for it to settle';
  const startedLater = d.startedAt !== undefined && Date.parse(d.startedAt) > since;
  if (d.state === 'running' && !startedLater) {
    // `starting` is fine: a probe may not even have run yet. Unhealthy is as bad as a crash loop.
    if (d.health !== 'unhealthy') return undefined;
    const streak = d.failingStreak !== undefined ? `, ${d.failingStreak} failure(s) in a row` : '';
    return `is unhealthy (its healthcheck fails${streak}${probeText(d.lastProbe)})${await lastLines(port, id, d.tty ?? false)}`;
  }
  // Restarted and running again: its exit code is only there between runs. Catch it there, briefly.
  for (let i = 0; i < 10 && d?.state === 'running'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    d = (await port.inspectContainer(id)) ?? d;
  }
  const restarts = d.restartCount ?? 0;
  const exit = d.state !== 'running' && d.exitCode !== undefined ? `, last exit code ${d.exitCode}` : '';
  const what =
    d.state === 'restarting' || d.state === 'running' || restarts > 0
      ? `is restart-looping (restarted ${restarts} time(s)${exit})`
      : `did not stay up: ${d.state}${d.exitCode !== undefined ? `, exit code ${d.exitCode}` : ''}${d.oomKilled ? ', killed for lack of memory (OOM)' : ''}`;
  return `${what}${await lastLines(port, id, d.tty ?? false)}`;
}

async function lastLines(port: DockerPort, id: string, tty: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    const body = await port.containerLogs(id, { follow: false, tail: LAST_LOG_LINES, timestamps: false });
    const demux = new Demultiplexer((_name, chunk) => chunks.push(Buffer.from(chunk)));
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (tty) chunks.push(Buffer.from(chunk));
      else demux.push(chunk);
    }
  } catch {
    return ''; // the verdict stands without its logs
  }
  const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n').filter(Boolean);
  if (lines.length === 0) return '; it wrote no output';
  return `; its last output:\n${lines
    .slice(-LAST_LOG_LINES)
    .map((l) => `    | ${l}`)
    .join('\n')}`;
}
