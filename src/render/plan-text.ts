/** Terraform-style rendering of a Plan, and its JSON form. */
import type { Action, ActionKind, EgressAction, FieldChange, Plan } from '../types.js';
import { cpusOf, probeToJson } from './json.js';
import { formatBytes, formatCpus } from './units.js';
import { paint, type Painter } from './color.js';
import { DURATION_PATHS, SECRET, SECRET_CHANGED } from '../reconcile/field-diff.js';
import { formatDuration } from '../util/duration.js';
import { cliHint } from './hints.js';

export const SYMBOL: Record<ActionKind, string> = {
  create: '+',
  update: '~',
  start: '~',
  unpause: '~',
  stop: '~',
  recreate: '-/+',
  remove: '-',
};

const COLOR: Record<ActionKind, keyof Painter> = {
  create: 'green',
  update: 'yellow',
  start: 'yellow',
  unpause: 'yellow',
  stop: 'yellow',
  recreate: 'magenta',
  remove: 'red',
};

const VERB: Record<ActionKind, string> = {
  create: 'created',
  update: 'updated in place',
  start: 'started',
  unpause: 'unpaused',
  stop: 'stopped',
  recreate: 'recreated',
  remove: 'removed',
};

export function renderPlan(p: Plan, color = false): string {
  const c = paint(color);
  const lines: string[] = [];
  // First, so that "No changes" or a short list is never read as the whole project's state.
  const limited = targetNote(p);
  if (limited) lines.push(c.yellow(limited));
  for (const a of p.actions) {
    const sym = SYMBOL[a.kind].padStart(3);
    const owner = a.createdBy !== undefined ? c.red(`  [created by ${a.createdBy}]`) : '';
    lines.push(
      c[COLOR[a.kind]](`${sym} ${a.agentId}`) +
        (a.engine ? ` on engine ${a.engine}` : '') +
        ` will be ${VERB[a.kind]}` +
        c.dim(`  (${a.cause})`) +
        owner,
    );
    for (const ch of changesOf(a))
      lines.push(`      ${ch.path}: ${formatValue(ch.path, ch.before)} -> ${formatValue(ch.path, ch.after)}`);
  }
  for (const e of p.egress ?? []) {
    lines.push(
      c[EGRESS_COLOR[e.kind]](`${EGRESS_SYMBOL[e.kind].padStart(3)} ${egressSubject(e)}`) +
        ` will be ${EGRESS_VERB[e.kind]}` +
        c.dim(`  (${e.cause})`),
    );
    if (e.kind === 'write-policy')
      for (const ch of e.changes)
        lines.push(
          `      ${ch.path}: ${formatValue(ch.path, ch.before)} -> ${formatValue(ch.path, ch.after)}`,
        );
  }
  for (const m of p.migrations ?? []) {
    lines.push(
      c.magenta(`  > ${m.agentId}`) +
        ` will be moved from engine ${m.from.engine} to engine ${m.to}` +
        c.dim(`  (${m.cause})`),
    );
    lines.push(
      `      stop on ${m.from.engine}, create on ${m.to}, copy /mnt, verify, start, remove the container on ${m.from.engine} (its data stays there)`,
    );
  }
  for (const u of p.unreachable ?? [])
    lines.push(
      c.red(`  ! engine ${u.engine} is unreachable: ${u.message}`) +
        (u.agents.length > 0 ? ` (withheld: ${u.agents.join(', ')})` : ''),
    );
  for (const conflict of p.conflicts) {
    const hint = cliHint(conflict.optIn);
    lines.push(c.red(`  ! ${conflict.agentId}: ${conflict.message}`) + (hint ? ` (${hint})` : ''));
  }
  for (const f of p.failing ?? []) lines.push(c.red(`  ! ${f.agentId} is ${f.message}`));
  for (const [file, n] of adoptedByFile(p))
    lines.push(
      `  note: ${n} agent(s) were created by ${file}, which no longer exists (moved or renamed?): this file adopts them`,
    );
  if (lines.length > 0) lines.push('');
  lines.push(summaryLine(p));
  return lines.join('\n');
}

/** The line saying that a plan was limited by --target (undefined for a whole plan). */
export function targetNote(p: Plan): string | undefined {
  if (!p.targets?.length) return undefined;
  return `limited to --target ${p.targets.join(', ')}: other agents not shown`;
}

export function summaryLine(p: Plan): string {
  const failing = p.failing?.length ? `, ${p.failing.length} failing` : '';
  const egress = p.egress?.length ?? 0;
  const moves = p.migrations?.length ?? 0;
  const down = p.unreachable?.length
    ? `, ${p.unreachable.length} engine(s) unreachable (${p.unreachable.map((u) => u.engine).join(', ')})`
    : '';
  if (p.actions.length === 0 && p.conflicts.length === 0 && egress === 0 && moves === 0) {
    if (down) return `No changes on the engines reached${down}.`;
    if (failing)
      return `No changes, but ${p.failing?.length} agent(s) of project "${p.project}" are not well (see above).`;
    return `No changes. Project "${p.project}" is up to date (${p.unchanged.length} agent(s)).`;
  }
  const n = (k: ActionKind) => p.actions.filter((a) => a.kind === k).length;
  const parts = [
    `${n('create')} to create`,
    `${n('update')} to update`,
    `${n('recreate')} to recreate`,
    `${n('remove')} to remove`,
    `${n('start') + n('unpause')} to start`,
    `${n('stop')} to stop`,
    `${p.unchanged.length} unchanged`,
  ];
  const conflicts = p.conflicts.length > 0 ? `, ${p.conflicts.length} conflict(s)` : '';
  const ofOthers = p.actions.filter((a) => a.createdBy !== undefined).length;
  const foreign = ofOthers > 0 ? `, ${ofOthers} on agents another file created` : '';
  const gateway = egress > 0 ? `, ${egress} egress gateway step(s)` : '';
  const moving = moves > 0 ? `, ${moves} to move between engines` : '';
  return `Plan: ${parts.join(', ')}${conflicts}${foreign}${gateway}${moving}${failing}${down}.`;
}

/** Adopted agents counted by the (gone) file that created them, sorted by file. */
function adoptedByFile(p: Plan): [string, number][] {
  const n = new Map<string, number>();
  for (const a of p.adopted ?? []) n.set(a.file, (n.get(a.file) ?? 0) + 1);
  return [...n].sort(([x], [y]) => x.localeCompare(y));
}

/** Whether applying the plan would change anything. */
export function hasChanges(p: Plan): boolean {
  return p.actions.length > 0 || (p.egress?.length ?? 0) > 0 || (p.migrations?.length ?? 0) > 0;
}

export const EGRESS_SYMBOL: Record<EgressAction['kind'], string> = {
  'create-network': '+',
  'create-gateway': '+',
  'recreate-gateway': '-/+',
  'start-gateway': '~',
  'write-policy': '~',
  'remove-gateway': '-',
  'remove-network': '-',
};

const EGRESS_COLOR: Record<EgressAction['kind'], keyof Painter> = {
  'create-network': 'green',
  'create-gateway': 'green',
  'recreate-gateway': 'magenta',
  'start-gateway': 'yellow',
  'write-policy': 'yellow',
  'remove-gateway': 'red',
  'remove-network': 'red',
};

const EGRESS_VERB: Record<EgressAction['kind'], string> = {
  'create-network': 'created',
  'create-gateway': 'created',
  'recreate-gateway': 'recreated',
  'start-gateway': 'started',
  'write-policy': 'updated in place',
  'remove-gateway': 'removed',
  'remove-network': 'removed',
};

export function egressSubject(e: EgressAction): string {
  switch (e.kind) {
    case 'create-network':
    case 'remove-network':
      return `egress network ${e.network}`;
    case 'write-policy':
      return 'egress policy';
    default:
      return 'egress gateway';
  }
}

function changesOf(a: Action): FieldChange[] {
  return a.kind === 'update' || a.kind === 'recreate' ? a.changes : [];
}

export function formatValue(path: string, v: unknown): string {
  if (v === undefined) return '(none)';
  if (path === 'memory' && typeof v === 'number') return formatBytes(v);
  if (path === 'cpus' && typeof v === 'number') return formatCpus(v);
  if (path === 'image id' && typeof v === 'string') return v.replace(/^sha256:/, '').slice(0, 12);
  if (v === SECRET || v === SECRET_CHANGED) return v;
  if (DURATION_PATHS.has(path) && typeof v === 'number') return formatDuration(v);
  if (path === 'healthcheck' && typeof v === 'object' && v !== null) return healthcheckText(v);
  return JSON.stringify(v);
}

/** A whole healthcheck (one side was none, image or absent), in the file's terms. */
function healthcheckText(v: object): string {
  const hc = v as Record<string, unknown>;
  const ms = (key: string) => (typeof hc[key] === 'number' ? formatDuration(hc[key]) : '?');
  return `{ command: ${JSON.stringify(hc.command)}, interval: ${ms('intervalMs')}, timeout: ${ms('timeoutMs')}, retries: ${String(hc.retries)}, startPeriod: ${ms('startPeriodMs')} }`;
}

/** The plan as data (schemas/output/diff.json): actions without the full spec (the file's, and large). */
export function planToJson(p: Plan): unknown {
  return {
    project: p.project,
    actions: p.actions.map((a) => ({
      kind: a.kind,
      agent: a.agentId,
      engine: a.engine ?? 'local',
      cause: a.cause,
      container: 'name' in a ? a.name : a.spec.name,
      containerId: 'containerId' in a ? a.containerId : null,
      changes: changesOf(a).map(changeToJson),
      // Why a recreate is a repair: the engine left the container broken (null otherwise).
      broken: a.kind === 'recreate' ? (a.broken ?? null) : null,
      // Another file (still there) created this agent: apply refuses the action without a flag.
      createdBy: a.createdBy ?? null,
    })),
    unchanged: p.unchanged,
    conflicts: p.conflicts.map((c) => ({
      agent: c.agentId,
      engine: c.engine ?? 'local',
      container: c.name,
      containerId: c.containerId,
      message: c.message,
      optIn: c.optIn ?? null,
    })),
    failing: (p.failing ?? []).map((f) => ({
      agent: f.agentId,
      message: f.message,
      lastProbe: f.lastProbe ? probeToJson(f.lastProbe) : null,
    })),
    adopted: (p.adopted ?? []).map((a) => ({ agent: a.agentId, file: a.file })),
    // [] without an egress policy; every key present, null where it does not apply to the kind.
    egress: (p.egress ?? []).map((e) => ({
      kind: e.kind,
      subject: egressSubject(e),
      cause: e.cause,
      changes:
        e.kind === 'write-policy'
          ? e.changes.map((c) => ({ path: c.path, before: c.before ?? null, after: c.after ?? null }))
          : null,
      containerId: 'containerId' in e ? e.containerId : null,
    })),
    migrations: (p.migrations ?? []).map((m) => ({
      agent: m.agentId,
      from: m.from.engine,
      to: m.to,
      container: m.from.name,
      containerId: m.from.containerId,
      workDir: m.from.workDir ?? null,
      cause: m.cause,
    })),
    unreachable: (p.unreachable ?? []).map((u) => ({
      engine: u.engine,
      message: u.message,
      agents: u.agents,
    })),
    summary: summaryLine(p),
    // The --target values the plan was limited to (other agents are not in it); null for a whole plan.
    targets: p.targets ?? null,
  };
}

/** `cpus` in CPUs as in the file, not the engine's nanoCPUs; `memory` stays in bytes. */
function changeToJson(c: FieldChange): { path: string; before: unknown; after: unknown } {
  const convert = (v: unknown) => (c.path === 'cpus' && typeof v === 'number' ? cpusOf(v) : (v ?? null));
  return { path: c.path, before: convert(c.before), after: convert(c.after) };
}
