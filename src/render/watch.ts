/**
 * Rendering of the watch controller's events: text lines (stdout, errors to stderr), and a one-line
 * fleet status for a terminal. JSON output needs no help: one event, one line.
 */
import type { WatchEvent, WatchHeld, WatchUnwell } from '../watch/events.js';
import { paint } from './color.js';
import { cliHint } from './hints.js';
import { SYMBOL } from './plan-text.js';

export interface Line {
  text: string;
  stream: 'out' | 'err';
}

/** The lines an event prints as; none for routine ones (a no-op resync, the engine's own echo of us). */
export function watchLines(e: WatchEvent, color = false): Line[] {
  const c = paint(color);
  const at = c.dim(clock(e.time));
  const out = (text: string): Line => ({ text: `${at} ${text}`, stream: 'out' });
  const err = (text: string): Line => ({ text: `${at} ${text}`, stream: 'err' });
  switch (e.type) {
    case 'watching':
      return [
        out(
          `watching ${e.file}: project "${e.project}", ${e.agents} agent(s)${e.engines ? ` on engines ${e.engines.join(', ')}` : ''}, resync every ${seconds(e.resyncMs)} (Ctrl-C stops watching; agents keep running)`,
        ),
      ];
    case 'reconcile': {
      const why = describeTrigger(e.trigger);
      const lines: Line[] = [];
      if (e.actions.length > 0) {
        const done = e.actions
          .map(
            (a) => `${SYMBOL[a.kind]} ${a.kind} ${a.agent}${a.repair ? ` (repair ${a.attempt ?? 1})` : ''}`,
          )
          .join(', ');
        // An unreachable engine makes the run not ok, but is no failure of what was done: said apart.
        const head = e.actions.every((a) => a.ok) ? c.green('reconciled') : c.red('reconciled with failures');
        lines.push(
          out(
            `${head} (${why}): ${done}; ${e.unchanged} unchanged${withheldText(e.withheld, c)}${unreachableText(e.unreachable, c)}, in ${seconds(e.durationMs, 2)}`,
          ),
        );
        for (const a of e.actions.filter((x) => !x.ok))
          lines.push(err(`${c.red('FAIL')} ${a.kind} ${a.agent}: ${a.error}`));
      } else if (e.trigger.includes('file') || e.trigger.includes('start')) {
        const head = e.withheld.length > 0 || e.unreachable.length > 0 ? 'partly in sync' : 'in sync';
        lines.push(
          out(
            `${head} (${why}): ${e.unchanged} agent(s) unchanged${withheldText(e.withheld, c)}${unreachableText(e.unreachable, c)}, in ${seconds(e.durationMs, 2)}`,
          ),
        );
      }
      // Who is held is said by `backoff` events, once per change (and on the status line).
      // Said when it starts and when it ends; while it lasts, the status line shows it.
      for (const u of e.unwell.filter((x) => e.newlyUnwell.includes(x.agent)))
        lines.push(err(`${c.red('!')} ${u.agent} is ${u.message}`));
      if (e.recovered.length > 0) lines.push(out(`no longer failing: ${e.recovered.join(', ')}`));
      return lines;
    }
    case 'backoff':
      return e.state === 'started'
        ? [
            out(
              `${c.yellow('backing off')}: ${e.agent} needs repairs again and again (crash loop?); repair ${e.attempt} in ${seconds(Math.max(0, Date.parse(e.retryAt) - Date.parse(e.time)), 1)}, after a ${seconds(e.delayMs)} back-off, each next wait doubling up to ${seconds(e.maxDelayMs)}; said once, until it stays up ${seconds(e.resetAfterMs)}`,
            ),
          ]
        : [out(`${c.green('back-off over')}: ${e.agent} ${BACKOFF_END[e.reason]}`)];
    case 'config-error': {
      const hint = cliHint(e.optIn);
      return [
        err(`${c.red('config error')}: keeping the last good state, nothing changed for this file:`),
        ...e.messages.map((m, i) => ({
          text: i === 0 && hint ? `${m} (${hint})` : m,
          stream: 'err' as const,
        })),
      ];
    }
    case 'config-warning':
      return [{ text: e.message, stream: 'err' }];
    case 'error': {
      // With agents: only they are withheld, the others were applied.
      const scope = e.agents
        ? `; withholding ${e.agents.join(', ')} (the other agents are applied), retried on every reconcile`
        : '; will retry';
      const hint = cliHint(e.optIn);
      return [
        err(
          `${c.red('error')} (${describeTrigger(e.trigger)}): ${e.messages[0] ?? ''}${hint ? ` (${hint})` : ''}${scope}`,
        ),
        ...e.messages.slice(1).map((m) => ({ text: `  ${m}`, stream: 'err' as const })),
      ];
    }
    case 'engine': {
      // With several engines: which one, and that only its agents wait for it.
      const which = e.engine !== undefined ? `engine ${e.engine}: ` : '';
      if (e.state === 'connected')
        return [
          out(
            `${which}engine event stream reconnected; resyncing${e.engine !== undefined ? ' its agents' : ''}`,
          ),
        ];
      const held =
        e.agents !== undefined
          ? `; holding its agents (${e.agents.length > 0 ? e.agents.join(', ') : 'none'}) until it is back, the other engines' are served`
          : '';
      return [
        err(
          `${which}${c.red('engine event stream lost')}: ${e.message}${held}; reconnecting (first retry in ${seconds(e.retryInMs ?? 0, 1)})`,
        ),
      ];
    }
    case 'stopping':
      return [out(`stopping (${e.reason}): finishing the reconcile in flight; agents keep running`)];
    case 'stopped':
      return [out('stopped; project lock released')];
  }
}

/** What a terminal shows below the log: the fleet as of the last reconcile. */
export class FleetStatus {
  private project = '';
  private agents = 0;
  private held: WatchHeld[] = [];
  private failing: string[] = [];
  private unwell: WatchUnwell[] = [];
  private withheld: string[] = [];
  /** Engines by name ('' for the one engine of a file without `engines:`) that are not reachable now. */
  private down = new Map<string, number>();
  private engines: string[] | undefined;
  private lastSync = '';
  private configBroken = false;

  update(e: WatchEvent): void {
    if (e.type === 'watching') {
      this.project = e.project;
      this.agents = e.agents;
      this.engines = e.engines;
    } else if (e.type === 'reconcile') {
      this.agents = e.agents;
      this.held = e.held;
      this.failing = e.actions.filter((a) => !a.ok).map((a) => a.agent);
      this.withheld = e.withheld;
      this.unwell = e.unwell;
      // What the run found: an engine seen again is up, one that could not be observed is down.
      for (const name of this.engines ?? []) this.down.delete(name);
      for (const u of e.unreachable) this.down.set(u.engine, u.agents.length);
      this.lastSync = `${clock(e.time)} (${seconds(e.durationMs, 2)})`;
      if (e.trigger.includes('file')) this.configBroken = false;
    } else if (e.type === 'engine') {
      const name = e.engine ?? '';
      if (e.state === 'connected') this.down.delete(name);
      else this.down.set(name, e.agents?.length ?? this.down.get(name) ?? 0);
    } else if (e.type === 'config-error') {
      this.configBroken = true;
    }
  }

  line(color = false): string {
    const c = paint(color);
    const parts = [c.bold(`${this.project}`), `${this.agents} agent(s)`];
    if (this.held.length > 0)
      parts.push(
        c.yellow(
          `${this.held.length} backing off (${this.held.map((h) => `${h.agent} at ${clock(h.retryAt)}`).join(', ')})`,
        ),
      );
    if (this.failing.length > 0)
      parts.push(c.red(`${this.failing.length} failing (${this.failing.join(', ')})`));
    if (this.withheld.length > 0)
      parts.push(c.red(`${this.withheld.length} withheld (${this.withheld.join(', ')})`));
    if (this.unwell.length > 0)
      parts.push(c.red(`${this.unwell.length} not well (${this.unwell.map(unwellText).join(', ')})`));
    if (this.configBroken) parts.push(c.red('file has errors: last good state in force'));
    if (this.down.size === 0)
      parts.push(this.engines ? `${this.engines.length} engines connected` : 'engine connected');
    else if (!this.engines) parts.push(c.red('engine unreachable'));
    else
      parts.push(
        c.red(
          [...this.down]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, n]) => `engine ${name} unreachable (${n} agent(s) held)`)
            .join(', '),
        ),
      );
    if (this.lastSync) parts.push(`last reconcile ${this.lastSync}`);
    return c.dim('watching: ') + parts.join(' · ');
  }
}

/** `a restart-looping`, `b unhealthy`: the verdict's first words, for the one-line status. */
function unwellText(u: WatchUnwell): string {
  return `${u.agent} ${u.message.split(' (')[0] ?? u.message}`;
}

/** `file`, `resync`, `engine: die a, stop b (+3 more)`... */
export function describeTrigger(trigger: readonly string[]): string {
  const plain = trigger.filter((t) => !t.startsWith('engine:'));
  const engine = trigger
    .filter((t) => t.startsWith('engine:'))
    .map((t) => t.slice('engine:'.length).replace(':', ' '));
  const shown = engine.slice(0, 3).join(', ');
  const more = engine.length > 3 ? ` (+${engine.length - 3} more)` : '';
  return [...plain, ...(engine.length > 0 ? [`engine: ${shown}${more}`] : [])].join('; ');
}

/** `, engine b unreachable (w, y held)`: engines that could not be observed, and their agents. */
function unreachableText(
  unreachable: readonly { engine: string; agents: string[] }[],
  c: ReturnType<typeof paint>,
): string {
  return unreachable
    .map((u) => `, ${c.red(`engine ${u.engine} unreachable (${u.agents.join(', ') || 'no agents'} held)`)}`)
    .join('');
}

/** `, 1 withheld (b)`: agents left alone for a preflight problem of their own. */
function withheldText(withheld: readonly string[], c: ReturnType<typeof paint>): string {
  return withheld.length > 0 ? `, ${c.red(`${withheld.length} withheld (${withheld.join(', ')})`)}` : '';
}

const BACKOFF_END = {
  recovered: 'stayed up after its last repair; its next repair, if any, is immediate',
  changed: 'changed in the file; the change is applied at once',
  removed: 'is no longer declared',
} as const;

function clock(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function seconds(ms: number, digits = 0): string {
  return `${(ms / 1000).toFixed(digits)}s`;
}
