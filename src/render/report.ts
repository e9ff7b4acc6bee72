/** Rendering of apply results: progress lines while it runs, a summary at the end, or JSON. */
import type { ProgressEvent } from '../reconcile/execute.js';
import type { ActionResult, ApplyReport, EgressResult } from '../types.js';
import { paint } from './color.js';
import { EGRESS_SYMBOL, egressSubject, SYMBOL } from './plan-text.js';

export function progressLine(e: ProgressEvent, color = false): string | undefined {
  if (e.type !== 'end') return undefined;
  const c = paint(color);
  const r = e.result;
  const what = `${SYMBOL[r.action.kind]} ${r.action.kind} ${r.action.agentId}`;
  const secs = (r.durationMs / 1000).toFixed(2);
  return r.ok ? `${c.green('ok')}    ${what} (${secs}s)` : `${c.red('FAIL')}  ${what}: ${r.error}`;
}

export function egressProgressLine(
  e: { type: 'begin' | 'end'; result?: EgressResult },
  color = false,
): string | undefined {
  if (e.type !== 'end' || !e.result) return undefined;
  const c = paint(color);
  const r = e.result;
  const what = `${EGRESS_SYMBOL[r.action.kind]} ${r.action.kind.replace('-', ' ')} (${egressSubject(r.action)})`;
  const secs = (r.durationMs / 1000).toFixed(2);
  return r.ok ? `${c.green('ok')}    ${what} (${secs}s)` : `${c.red('FAIL')}  ${what}: ${r.error}`;
}

export function reportSummary(report: ApplyReport): string {
  const extra = [
    ...(report.migrations ?? []).map((m) =>
      m.ok
        ? `  moved        ${m.migration.agentId} from engine ${m.migration.from.engine} to ${m.migration.to}: ${m.steps.join('; ')}`
        : `  move FAILED  ${m.migration.agentId} from engine ${m.migration.from.engine} to ${m.migration.to}: ${m.error}${m.steps.length > 0 ? ` (done: ${m.steps.join('; ')})` : ''}`,
    ),
    ...(report.unreachable ?? []).map(
      (u) =>
        `  unreachable  engine ${u.engine}: ${u.message}${u.agents.length > 0 ? ` (withheld: ${u.agents.join(', ')})` : ''}`,
    ),
  ];
  const main = baseSummary(report);
  if (extra.length === 0) return main;
  const failedFleet = (report.migrations ?? []).some((m) => !m.ok) || (report.unreachable ?? []).length > 0;
  return [failedFleet ? main.replace(/^Apply complete|^No changes\./, 'Apply FAILED') : main, ...extra].join(
    '\n',
  );
}

function baseSummary(report: ApplyReport): string {
  const egress = report.egress ?? [];
  const all = [...report.results, ...egress];
  const ok = report.results.filter((r) => r.ok);
  const failed = report.results.filter((r) => !r.ok && !r.notStarted);
  const egressOk = egress.filter((r) => r.ok).length;
  const egressFailed = egress.filter((r) => !r.ok).length;
  const notStarted = report.results.filter((r) => r.notStarted);
  const secs = (report.durationMs / 1000).toFixed(2);
  if (all.length === 0) {
    return report.dryRun
      ? 'Dry run: nothing was changed.'
      : `No changes. Project "${report.project}" is up to date.`;
  }
  if (report.interrupted) {
    // What was done and what was not, so the user knows where the next run picks up.
    return [
      `Apply INTERRUPTED: ${ok.length} action(s) done, ${failed.length} failed, ${notStarted.length} not started, in ${secs}s. Run apply again to finish.`,
      ...ok.map((r) => `  done         ${describeAction(r)}`),
      ...failed.map((r) => `  failed       ${describeAction(r)}: ${r.error}`),
      ...notStarted.map((r) => `  not started  ${describeAction(r)}`),
    ].join('\n');
  }
  const head = failed.length + egressFailed === 0 ? 'Apply complete' : 'Apply FAILED';
  return `${head}: ${ok.length + egressOk} action(s) done, ${failed.length + egressFailed} failed, ${report.unchanged.length} agent(s) unchanged, in ${secs}s.`;
}

function describeAction(r: ActionResult): string {
  return `${SYMBOL[r.action.kind]} ${r.action.kind} ${r.action.agentId}`;
}

export function reportToJson(report: ApplyReport): unknown {
  return {
    project: report.project,
    ok: report.ok,
    interrupted: report.interrupted ?? false,
    dryRun: report.dryRun,
    durationMs: Math.round(report.durationMs),
    results: report.results.map((r: ActionResult) => ({
      kind: r.action.kind,
      agent: r.action.agentId,
      engine: r.action.engine ?? 'local',
      cause: r.action.cause,
      ok: r.ok,
      error: r.error ?? null,
      // Created and started, but not ready (healthy) within the wait.
      notReady: r.notReady ?? false,
      containerId: r.containerId ?? null,
      // Left undone because the run was interrupted first (it was never attempted).
      notStarted: r.notStarted ?? false,
      durationMs: Math.round(r.durationMs),
    })),
    unchanged: report.unchanged,
    // [] when there is none (never a missing key).
    migrations: (report.migrations ?? []).map((m) => ({
      agent: m.migration.agentId,
      from: m.migration.from.engine,
      to: m.migration.to,
      ok: m.ok,
      error: m.error ?? null,
      steps: m.steps,
      containerId: m.containerId ?? null,
      durationMs: Math.round(m.durationMs),
    })),
    unreachable: (report.unreachable ?? []).map((u) => ({
      engine: u.engine,
      message: u.message,
      agents: u.agents,
    })),
    egress: (report.egress ?? []).map((r) => ({
      kind: r.action.kind,
      subject: egressSubject(r.action),
      cause: r.action.cause,
      ok: r.ok,
      error: r.error ?? null,
      durationMs: Math.round(r.durationMs),
    })),
  };
}
