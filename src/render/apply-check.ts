/**
 * What diff says beyond the plan: the images apply builds first, and what would make apply refuse the
 * run or warn (ops/apply-check.ts). Text and the JSON of schemas/output/diff.json (`builds`, `preflight`).
 */
import path from 'node:path';
import type { ApplyCheck } from '../ops/apply-check.js';
import type { BuildReason } from '../reconcile/builds.js';
import { paint } from './color.js';
import { cliHint } from './hints.js';

const REASON: Record<BuildReason, string> = {
  missing: 'not on the engine',
  rebuild: 'rebuild of every declared image asked for',
};

/** A path as the user would type it from `cwd`. */
function shown(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : `./${rel}`;
}

/** The lines that go before the plan: one per build. */
export function renderBuilds(check: ApplyCheck, color = false, cwd = process.cwd()): string[] {
  const c = paint(color);
  return check.builds.map(
    (b) =>
      c.green(`  * image ${b.image}`) +
      ` will be built from ${shown(b.context, cwd)}` +
      (b.dockerfile === 'Dockerfile' ? '' : ` (${b.dockerfile})`) +
      c.dim(`  (${REASON[b.reason]}; for ${b.agents.join(', ')})`),
  );
}

/** The lines that go after the plan's summary: what apply would refuse the run for, then warnings. */
export function renderProblems(check: ApplyCheck, color = false): string[] {
  const c = paint(color);
  const lines: string[] = [];
  if (check.problems.length > 0) {
    lines.push(
      c.red(`apply would refuse this run (${check.problems.length} problem(s)), nothing would be changed:`),
    );
    for (const x of check.problems) {
      const hint = cliHint(x.optIn);
      lines.push(c.red(`  ! ${x.message}`) + (hint ? ` (${hint})` : ''));
    }
  }
  for (const w of check.warnings) lines.push(c.yellow(`  warning: ${w}`));
  return lines;
}

/** `builds` and `preflight` of diff's JSON. */
export function applyCheckToJson(check: ApplyCheck): { builds: unknown[]; preflight: unknown } {
  return {
    builds: check.builds.map((b) => ({
      image: b.image,
      context: b.context,
      dockerfile: b.dockerfile,
      agents: b.agents,
      reason: b.reason,
    })),
    preflight: {
      ok: check.problems.length === 0,
      problems: check.problems.map((x) => ({
        message: x.message,
        agents: x.agents,
        optIn: x.optIn ?? null,
      })),
      warnings: check.warnings,
    },
  };
}

/** Whether apply would refuse the run: a conflict in the plan, or a problem of the check. */
export function wouldRefuse(conflicts: number, check: ApplyCheck): boolean {
  return conflicts > 0 || check.problems.length > 0;
}
