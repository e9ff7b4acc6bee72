/**
 * `apply --watch`: a level-triggered controller. It applies once, then keeps the engine converged to the
 * file until stopped: file changes and engine events only mark the state dirty (see Coalescer), and each
 * run is the same observe -> plan -> preflight -> execute as `apply`, with the plan filtered by the
 * per-agent repair back-off (see backoff.ts). A periodic resync catches whatever the event stream missed.
 *
 * One bad agent does not stop the others: an agent with a preflight problem of its own (image missing or
 * failing to build, limits above the host's, its name taken, a network or runtime the engine lacks) is
 * withheld, like a held repair, while the rest is applied; the problem is reported once, and every later
 * reconcile retries the agent (so pulling or building its image heals it by the next resync at the
 * latest). A problem of the whole run (runtimeDir unwritable) still stops the reconcile, as in `apply`.
 *
 * Lock: the controller holds the project's lock for its whole life, so a one-shot `apply` or `down`
 * fails with a message naming the watcher's pid (or waits with --wait) instead of interleaving with it.
 * Stopping finishes the reconcile in flight, stops watching and releases the lock; agents keep running.
 */
import type { FreeSpaceMinimum } from '../reconcile/free-space.js';
import { InspectCache } from './inspect-cache.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ContainerEvent, DockerPort } from '../docker/port.js';
import { openEngine } from '../docker/engines.js';
import { enginesOf, engineOf } from '../fleet/engines-of.js';
import { reconcileFleet } from '../fleet/reconcile.js';
import { AgentctlError, formatAt, toAgentctlError } from '../errors.js';
import { LABEL } from '../labels.js';
import { acquireLock, type Release } from '../lock.js';
import { type OpContext, portOf } from '../ops/context.js';
import { reconcile } from '../ops/reconcile.js';
import type { PreflightProblem } from '../reconcile/preflight.js';
import { type ApplyReport, type DesiredState, type EngineSpec, LOCAL_ENGINE } from '../types.js';
import {
  type BackoffPolicy,
  type BackoffState,
  type Decision,
  DEFAULT_BACKOFF,
  decide,
  nextRepairAt,
  sawUp,
  settle,
  type SpecKeys,
  specKeys,
  withhold,
} from './backoff.js';
import { Coalescer } from './coalescer.js';
import { describeMassRemoval, massRemoval } from '../reconcile/mass-prune.js';
import { followEngineEvents } from './engine-events.js';
import type { WatchEvent, WatchEventBody, WatchUnreachable, WatchUnwell } from './events.js';
import { naturalCompare } from '../util/natural-sort.js';
import { type FileWatch, watchFile } from './file-watcher.js';
import { changedAgents, narrowed } from './narrow.js';
import { cacheInfo, type InfoCache } from '../docker/info-cache.js';

export interface WatchOptions extends OpContext {
  /** The agents file. It must be a file: stdin cannot be watched. */
  file: string;
  /** Resolves a relative `file` (default: the current directory). */
  cwd?: string;
  /** Everything the controller does, one event per line of its log. */
  onEvent?: (e: WatchEvent) => void;
  /** Period of the full resync that catches what the event stream missed (default 30 000 ms). */
  resyncMs?: number;
  /** Quiet time that collapses a burst of file or engine events into one reconcile (default 100 ms). */
  debounceMs?: number;
  /** Per-agent repair back-off (default: 1 s doubling to 60 s, reset after 30 s up). */
  backoff?: Partial<BackoffPolicy>;
  /** As for apply. */
  prune?: boolean;
  /** Let a file with no agents remove every agent (otherwise such a file is refused, the last good state kept). */
  allowEmpty?: boolean;
  /**
   * Let a file change remove more than half of the agents (and more than one). Otherwise such a change
   * is held: reported, the last good state kept; a watcher started again with this set applies it.
   */
  allowMassPrune?: boolean;
  /**
   * Let the watcher remove / change agents that another file naming the project created (see apply).
   * Otherwise their actions are withheld and reported; the other agents are served as usual.
   */
  allowForeignPrune?: boolean;
  allowForeignChange?: boolean;
  parallel?: number;
  stopTimeoutSeconds?: number;
  /** How long to wait at start for another run holding the project's lock (default 0: fail at once). */
  lockWaitMs?: number;
  onLockWait?: (holder: string) => void;
  /** Free space and inodes a repair or change that creates containers needs (as for apply). */
  minFree?: FreeSpaceMinimum;
}

export interface WatchHandle {
  /**
   * Resolves once the first apply has run (whatever its outcome: failures are reported and retried);
   * rejects when the controller cannot start (unusable file, project locked), after cleaning up.
   */
  ready: Promise<void>;
  /** Resolves once the controller has stopped and released the lock. */
  done: Promise<void>;
  /** Finishes the reconcile in flight, stops watching and releases the lock. Agents keep running. */
  stop(reason?: string): Promise<void>;
}

export const DEFAULT_RESYNC_MS = 30_000;
export const DEFAULT_DEBOUNCE_MS = 100;

/**
 * Engine actions that can change what the planner sees. Others (exec_*, attach, resize, top, archive
 * access...) happen all the time and change nothing we manage.
 */
const RELEVANT = new Set([
  // The engine sends it only when an agent's health changes (not for every probe): it is how watch
  // learns of an agent turning unhealthy before the next resync.
  'health_status',
  'create',
  'start',
  'restart',
  'die',
  'kill',
  'oom',
  'stop',
  'destroy',
  'update',
  'rename',
  'pause',
  'unpause',
]);

/** Triggers of a reconcile that inspects every container afresh (see InspectCache). */
const FULL_LOOK = new Set(['start', 'resync', 'engine-reconnect']);

/** Events that end a run: the agent was up until then, which may make it count as recovered. */
const ENDS_A_RUN = new Set(['die', 'oom', 'kill', 'stop']);

export function watch(opts: WatchOptions): WatchHandle {
  const c = new Controller(opts);
  return { ready: c.ready, done: c.done, stop: (reason) => c.stop(reason) };
}

class Controller {
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;
  private readonly file: string;
  /** The `local` engine's port (DOCKER_HOST, or a test's), its info remembered (see info-cache.ts). */
  private readonly port: DockerPort;
  private readonly info: InfoCache;
  /**
   * One event subscription per engine of the file (just `local` for a file without `engines:`), each
   * with its own reconnect back-off and its own memory of inspects (see inspect-cache.ts).
   */
  private readonly engines = new Map<string, EngineWatch>();
  /** The file has `engines:`: events and messages name the engine. */
  private multi = false;
  /** Subscriptions of engines the file no longer names, still ending. */
  private readonly ending: Promise<void>[] = [];
  private readonly policy: BackoffPolicy;
  private readonly resyncMs: number;
  private readonly debounceMs: number;
  private readonly coalescer: Coalescer;
  private readonly abort = new AbortController();
  /** The last good desired state: what every reconcile converges to. */
  private desired: DesiredState | undefined;
  /** The specs the last reconcile applied: an agent with the same spec that needs actions has drifted. */
  private applied: SpecKeys = {};
  private backoff: BackoffState = {};
  /** Agents said to be backing off, with their repair count when last looked at (see reportBackoff). */
  private backingOff = new Map<string, number>();
  /** Agents the last reconcile found not well (restart-looping, unhealthy). */
  private unwell = new Set<string>();
  /** What was said of them (a narrowed reconcile keeps it for the agents it did not look at). */
  private unwellSaid: WatchUnwell[] = [];
  /** Preflight problems of withheld agents already reported (message -> its agents), each said once. */
  private withheldShown = new Map<string, readonly string[]>();
  private warningsShown = '';
  private fileWatch: FileWatch | undefined;
  private release: Release | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;
  private stopping: Promise<void> | undefined;
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly opts: WatchOptions) {
    this.file = path.resolve(opts.cwd ?? process.cwd(), opts.file);
    this.info = cacheInfo(portOf(opts));
    this.port = this.info.port;
    this.policy = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.coalescer = new Coalescer(this.debounceMs, (reasons) => this.reconcileOnce(reasons));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.ready = this.start();
    // A caller that only awaits `done` must not crash the process with an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  stop(reason = 'stop'): Promise<void> {
    this.stopping ??= (async () => {
      this.emit({ type: 'stopping', reason });
      // The reason (a signal's name from the CLI) is what a lock wait it ends reports and exits with.
      this.abort.abort(reason);
      await this.ready.catch(() => undefined);
      await this.shutdown();
      this.emit({ type: 'stopped' });
    })();
    return this.stopping;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async start(): Promise<void> {
    try {
      if (this.opts.file === '-') {
        throw new AgentctlError(
          'usage',
          'a watcher needs a file to watch; it cannot read the agents file from stdin',
        );
      }
      // Watch before the first read, so that a change made while starting is never missed.
      this.fileWatch = await watchFile(
        this.file,
        () => this.coalescer.trigger('file'),
        (err) =>
          this.emit({
            type: 'error',
            kind: 'config',
            trigger: ['file'],
            messages: [`watching ${this.file}: ${err.message}`],
          }),
      );
      const desired = await loadConfig(this.file);
      this.desired = desired;
      this.showWarnings(desired);
      this.release = await acquireLock(desired.project, {
        watchFile: this.file,
        waitMs: this.opts.lockWaitMs,
        onWait: this.opts.onLockWait,
        // A signal while waiting for another run's lock ends the wait: nothing was done.
        signal: this.abort.signal,
      });
      if (this.stopped) return;
      // Subscribe before the first apply, so that no change made after it is missed.
      await this.follow(desired);
      if (this.stopped) return;
      this.emit({
        type: 'watching',
        file: this.file,
        project: desired.project,
        pid: process.pid,
        agents: desired.agents.length,
        resyncMs: this.resyncMs,
        debounceMs: this.debounceMs,
        ...(desired.engines && { engines: [...this.engines.keys()] }),
      });
      await this.coalescer.now('start');
      if (this.stopped) return;
      this.resyncTimer = setInterval(() => this.coalescer.trigger('resync'), this.resyncMs);
    } catch (err) {
      await this.shutdown();
      throw toAgentctlError(err);
    }
  }

  /**
   * Follows the events of every engine the file names, each on its own: one engine going away (and its
   * reconnect back-off) holds only that engine's events. Engines the file no longer names are let go;
   * an engine whose address changed is followed afresh. Resolves once each new subscription was tried.
   */
  private async follow(desired: DesiredState): Promise<void> {
    const specs: EngineSpec[] = desired.engines
      ? enginesOf(desired)
      : [{ name: LOCAL_ENGINE, runtimeDir: desired.runtimeDir }];
    this.multi = desired.engines !== undefined;
    // Opened first: an engine that cannot be driven at all refuses the file before anything is let go.
    const fresh = specs
      .filter((spec) => this.engines.get(spec.name)?.key !== engineKey(spec))
      .map((spec) => ({ spec, port: openEngine(spec, { localPort: this.port }).port }));
    const wanted = new Set(specs.map((spec) => spec.name));
    for (const [name, w] of this.engines) {
      if (wanted.has(name) && !fresh.some((f) => f.spec.name === name)) continue;
      w.abort.abort();
      this.ending.push(w.done);
      this.engines.delete(name);
    }
    const attempts = fresh.map(({ spec, port }) => {
      const abort = new AbortController();
      const w: EngineWatch = {
        name: spec.name,
        key: engineKey(spec),
        cache: new InspectCache(port),
        abort,
        done: Promise.resolve(),
        state: undefined,
      };
      this.engines.set(spec.name, w);
      const followed = followEngineEvents(
        port,
        desired.project,
        {
          onEvent: (e) => this.onEngineEvent(w, e),
          onConnected: () => this.onEngineConnected(w),
          onDisconnected: (err, retryInMs) => this.onEngineDisconnected(w, err, retryInMs),
        },
        AbortSignal.any([this.abort.signal, abort.signal]),
      );
      w.done = followed.done;
      return followed.firstAttempt;
    });
    await Promise.all(attempts);
  }

  /** The engine's name in what is said of it: only a file with several engines names them. */
  private engineField(w: EngineWatch): { engine?: string } {
    return this.multi ? { engine: w.name } : {};
  }

  /** Idempotent: stops every source of work, waits for the reconcile in flight, releases the lock. */
  private shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.abort.abort();
      clearInterval(this.resyncTimer);
      clearTimeout(this.wake?.timer);
      await this.coalescer.close();
      await this.fileWatch?.close();
      for (const w of this.engines.values()) w.abort.abort();
      await Promise.all([...[...this.engines.values()].map((w) => w.done), ...this.ending]);
      await this.release?.();
      this.resolveDone();
    })();
    return this.shuttingDown;
  }

  private async reconcileOnce(trigger: string[]): Promise<void> {
    const before = this.desired;
    let reloaded = false;
    if (trigger.includes('file')) {
      reloaded = await this.reload();
      // A file that cannot be used changes nothing; other triggers still repair with the last good state.
      if (!reloaded && trigger.every((t) => t === 'file')) return;
    }
    const desired = this.desired;
    if (!desired) return;
    // A full look: what the event stream may have missed (or the first one).
    if (trigger.some((t) => FULL_LOOK.has(t))) {
      for (const w of this.engines.values()) w.cache.forgetAll();
      this.info.forget();
      // Asked now, beside this run's look, so that the next saved change finds it ready.
      Promise.resolve()
        .then(() => this.port.info())
        .catch(() => undefined);
    }
    const keys = specKeys(desired.agents);
    // A saved change alone (no engine event with it) of a few agents: reconciled for them alone.
    const only =
      reloaded && before && trigger.every((t) => t === 'file')
        ? changedAgents(before, desired, this.applied, keys)
        : undefined;
    let decision: Decision | undefined;
    try {
      const {
        plan: planned0,
        report,
        withheld,
      } = await (desired.engines ? reconcileFleet : reconcile)(only ? narrowed(desired, only) : desired, {
        port: this.port,
        partial: only !== undefined,
        inspect: this.engines.get(LOCAL_ENGINE)?.cache.inspect,
        inspectOn: (engine) => this.engines.get(engine)?.cache.inspect,
        lockHeld: true,
        // An agent with a problem of its own (image missing...) must not stop the repair of the others.
        withholdFailing: true,
        prune: this.opts.prune,
        allowEmpty: this.opts.allowEmpty,
        allowMassPrune: this.opts.allowMassPrune,
        allowForeignPrune: this.opts.allowForeignPrune,
        allowForeignChange: this.opts.allowForeignChange,
        parallel: this.opts.parallel,
        stopTimeoutSeconds: this.opts.stopTimeoutSeconds,
        minFree: this.opts.minFree,
        holdBack: (p) => {
          decision = decide(p, {
            state: this.backoff,
            applied: this.applied,
            desired: keys,
            now: Date.now(),
            policy: this.policy,
          });
          return decision.plan;
        },
      });
      // What it acted on changed: looked at afresh next time, whether or not its events have come yet.
      for (const r of report.results) {
        for (const w of this.engines.values()) {
          if ('containerId' in r.action) w.cache.forget(r.action.containerId);
          if (r.containerId) w.cache.forget(r.containerId);
        }
      }
      const planned: Decision = decision ?? { plan: emptyPlan(desired.project), held: [], repairs: [] };
      // Nothing was done for the withheld agents: no repair to count, and their spec is not applied yet
      // (once their problem is fixed, a new agent is created as a change of the file, not as a repair).
      const out = new Set(withheld.flatMap((w) => w.agents));
      // An engine that could not be reached: its agents were not looked at, nothing was done for them.
      const unreachable: WatchUnreachable[] = (planned0.unreachable ?? []).map((u) => ({
        engine: u.engine,
        agents: u.agents,
        message: u.message,
      }));
      const away = new Set(unreachable.flatMap((u) => u.agents));
      const d: Decision =
        out.size === 0
          ? planned
          : {
              ...planned,
              plan: withhold(planned.plan, out),
              repairs: planned.repairs.filter((a) => !out.has(a)),
            };
      const now = Date.now();
      this.backoff = settle(this.backoff, {
        decision: d,
        unchanged: report.unchanged,
        desired: keys,
        now,
        policy: this.policy,
      });
      const appliedBefore = this.applied;
      this.applied = appliedAfter(keys, this.applied, new Set([...out, ...away]));
      this.reportWithheld(trigger, withheld, d, only);
      const found = (planned0.failing ?? []).map((f) => ({ agent: f.agentId, message: f.message }));
      // Agents a narrowed run did not look at are as the last reconcile found them.
      const unwell = only
        ? [...this.unwellSaid.filter((u) => !only.has(u.agent)), ...found].sort((a, b) =>
            naturalCompare(a.agent, b.agent),
          )
        : found;
      const unlooked = only ? desired.agents.length - only.size : 0;
      this.emit(
        this.reconcileEvent(trigger, d, report, desired, now, [...out].sort(), unwell, unreachable, unlooked),
      );
      this.reportBackoff(d, keys, appliedBefore);
      this.scheduleWake(d, report);
    } catch (err) {
      const e = toAgentctlError(err);
      this.emit({ type: 'error', kind: e.kind, trigger, messages: [e.message, ...e.details] });
    }
  }

  /**
   * Re-reads the file. Returns whether it is usable (it then becomes the last good state); an unusable
   * one (unreadable, invalid, another project, no agents while we have some) is reported and ignored.
   */
  private async reload(): Promise<boolean> {
    const current = this.desired;
    if (!current) return false;
    let next: DesiredState;
    try {
      const before = await statKey(this.file);
      next = await loadConfig(this.file);
      // Still being written: its next write brings another event, and we read it then.
      if ((await statKey(this.file)) !== before) {
        this.coalescer.trigger('file');
        return false;
      }
    } catch (err) {
      const e = toAgentctlError(err);
      this.emit({ type: 'config-error', file: this.file, messages: [e.message, ...e.details] });
      return false;
    }
    // Checked first: an emptied file has lost its project line too.
    if (next.agents.length === 0 && current.agents.length > 0 && !this.opts.allowEmpty) {
      this.emit({
        type: 'config-error',
        file: this.file,
        messages: [
          `${this.file} declares no agents; keeping the last good state of ${current.agents.length} agent(s), as an emptied or half-saved file looks the same`,
        ],
        optIn: 'allowEmpty',
      });
      return false;
    }
    if (next.project !== current.project) {
      this.emit({
        type: 'config-error',
        file: this.file,
        messages: [
          `${this.file}: project changed from "${current.project}" to "${next.project}"; a watcher serves one project: stop it and start it again to switch`,
        ],
      });
      return false;
    }
    const mass =
      this.opts.prune === false || this.opts.allowMassPrune
        ? undefined
        : massRemoval(
            current.agents.map((a) => a.id),
            next.agents.map((a) => a.id),
          );
    if (mass) {
      this.emit({
        type: 'config-error',
        file: this.file,
        messages: [
          `${this.file}: holding a change that would remove ${describeMassRemoval(mass)}; keeping the last good state, as a truncated file looks the same (to apply it, start the watcher again allowing mass removal, or stop it and apply allowing it)`,
        ],
        optIn: 'allowMassPrune',
      });
      return false;
    }
    try {
      // Engines added to the file are followed from now on, engines taken out are let go.
      await this.follow(next);
    } catch (err) {
      const e = toAgentctlError(err);
      this.emit({ type: 'config-error', file: this.file, messages: [e.message, ...e.details] });
      return false;
    }
    this.desired = next;
    this.showWarnings(next);
    return true;
  }

  private showWarnings(d: DesiredState): void {
    const lines = d.warnings.map((w) => formatAt(w.pos, `warning: ${w.message}`));
    const key = lines.join('\n');
    if (key === this.warningsShown) return;
    this.warningsShown = key;
    for (const message of lines) this.emit({ type: 'config-warning', message });
  }

  private onEngineEvent(w: EngineWatch, e: ContainerEvent): void {
    // Any event, relevant to the plan or not (health_status...): what inspect says may have changed.
    w.cache.forget(e.containerId);
    const action = (e.action.split(':')[0] ?? '').trim();
    if (!RELEVANT.has(action)) return;
    const agent = e.attributes[LABEL.agent] ?? '?';
    if (action === 'health_status' && !this.healthMatters(agent, e.action)) return;
    if (ENDS_A_RUN.has(action)) this.backoff = sawUp(this.backoff, [agent], e.timeMs, this.policy);
    this.coalescer.trigger(`engine:${action}:${agent}`);
  }

  /**
   * Whether a health change can change what a reconcile does or says: health never changes the plan,
   * only the agents reported unwell. So only an agent turning unhealthy, or a change of one reported
   * unwell, needs a reconcile. Agents turning healthy after their first probe (every agent, one probe
   * interval after it starts: at 1000 agents a steady stream) changed nothing the watcher would say.
   */
  private healthMatters(agent: string, action: string): boolean {
    const status = action.slice(action.indexOf(':') + 1).trim();
    return status === 'unhealthy' || this.unwell.has(agent);
  }

  private onEngineConnected(w: EngineWatch): void {
    const before = w.state;
    w.state = 'connected';
    if (before === undefined) return;
    this.emit({ type: 'engine', state: 'connected', ...this.engineField(w) });
    // Whatever happened while we were not listening is only seen by looking again.
    this.coalescer.trigger('engine-reconnect');
  }

  private onEngineDisconnected(w: EngineWatch, err: AgentctlError | undefined, retryInMs: number): void {
    // Events are missed while disconnected: nothing remembered of this engine can be trusted.
    w.cache.forgetAll();
    if (w.name === LOCAL_ENGINE) this.info.forget();
    if (w.state === 'disconnected') return;
    w.state = 'disconnected';
    // With several engines, only this one's agents wait for it: said once, with who they are.
    const held =
      this.multi && this.desired
        ? { agents: this.desired.agents.filter((a) => engineOf(a) === w.name).map((a) => a.id) }
        : {};
    this.emit({
      type: 'engine',
      state: 'disconnected',
      ...this.engineField(w),
      // Node says only "aborted" when the engine drops the connection mid-stream.
      message: !err
        ? 'the engine closed the event stream'
        : err.message === 'aborted'
          ? 'the engine dropped the connection'
          : err.message,
      retryInMs,
      ...held,
    });
  }

  /**
   * Each withheld agent's problem is reported as an error when it appears (or changes), not again on
   * every reconcile that finds it still there; one that goes away and comes back is reported again.
   */
  private reportWithheld(
    trigger: string[],
    withheld: readonly PreflightProblem[],
    d: Decision,
    only: ReadonlySet<string> | undefined,
  ): void {
    const shown = new Map<string, readonly string[]>();
    // Agents held by their back-off, or left out of a narrowed run, were not checked this time: what was
    // said of them still stands.
    const unchecked = new Set(d.held.map((h) => h.agent));
    const isUnchecked = (a: string) => unchecked.has(a) || (only !== undefined && !only.has(a));
    for (const [message, agents] of this.withheldShown) {
      if (agents.every(isUnchecked)) shown.set(message, agents);
    }
    for (const w of withheld) {
      if (!this.withheldShown.has(w.message)) {
        this.emit({
          type: 'error',
          kind: 'preflight',
          trigger,
          messages: [w.message],
          agents: w.agents,
          ...(w.optIn !== undefined && { optIn: w.optIn }),
        });
      }
      shown.set(w.message, w.agents);
    }
    this.withheldShown = shown;
  }

  /**
   * A crash loop is said once when its first repair is held, and once when it ends, never on every
   * retry (a crash-looping agent brings a reconcile per engine event, several a second). It ends when
   * the agent's back-off is forgotten or starts over: up long enough (recovered), its spec changed in
   * the file, or no longer declared.
   */
  private reportBackoff(d: Decision, desired: SpecKeys, appliedBefore: SpecKeys): void {
    for (const [agent, repairsSeen] of [...this.backingOff]) {
      const now = this.backoff[agent];
      if (desired[agent] === undefined) {
        this.endBackoff(agent, 'removed');
      } else if (appliedBefore[agent] !== desired[agent]) {
        this.endBackoff(agent, 'changed');
      } else if (!now || now.repairs < repairsSeen) {
        this.endBackoff(agent, 'recovered');
      } else {
        this.backingOff.set(agent, now.repairs);
      }
    }
    for (const h of d.held) {
      if (this.backingOff.has(h.agent)) continue;
      this.backingOff.set(h.agent, this.backoff[h.agent]?.repairs ?? 0);
      this.emit({
        type: 'backoff',
        agent: h.agent,
        state: 'started',
        attempt: h.attempt,
        delayMs: h.delayMs,
        retryAt: new Date(h.until).toISOString(),
        maxDelayMs: this.policy.maxMs,
        resetAfterMs: this.policy.resetAfterMs,
      });
    }
  }

  private endBackoff(agent: string, reason: 'recovered' | 'changed' | 'removed'): void {
    this.backingOff.delete(agent);
    this.emit({ type: 'backoff', agent, state: 'ended', reason });
  }

  /** Held repairs, and actions that failed, are retried when their back-off allows. */
  private scheduleWake(d: Decision, report: ApplyReport): void {
    const failed = report.results.filter((r) => !r.ok).map((r) => r.action.agentId);
    const times = [
      ...d.held.map((h) => h.until),
      ...failed.map((agent) => nextRepairAt(this.backoff, agent, this.policy)),
    ];
    if (times.length === 0 || this.stopped) return;
    const at = Math.min(...times);
    if (this.wake && this.wake.at <= at) return;
    clearTimeout(this.wake?.timer);
    this.wake = {
      at,
      timer: setTimeout(
        () => {
          this.wake = undefined;
          this.coalescer.trigger('backoff');
        },
        Math.max(0, at - Date.now()),
      ),
    };
  }

  private reconcileEvent(
    trigger: string[],
    d: Decision,
    report: ApplyReport,
    desired: DesiredState,
    now: number,
    withheld: string[],
    unwell: WatchUnwell[],
    unreachable: WatchUnreachable[],
    /** Agents a narrowed run left alone: their spec is the one applied, and no event said they changed. */
    unlooked: number,
  ): WatchEventBody {
    const repairs = new Set(d.repairs);
    const before = this.unwell;
    this.unwellSaid = unwell;
    this.unwell = new Set(unwell.map((u) => u.agent));
    const newlyUnwell = [...this.unwell].filter((a) => !before.has(a));
    // No longer listed: well again, or acted on (recreated, removed), which ends the old verdict too.
    const recovered = [...before].filter((a) => !this.unwell.has(a)).sort(naturalCompare);
    return {
      type: 'reconcile',
      trigger,
      ok: report.ok,
      durationMs: Math.round(report.durationMs),
      actions: report.results.map((r) => {
        const repair = repairs.has(r.action.agentId);
        return {
          kind: r.action.kind,
          agent: r.action.agentId,
          cause: r.action.cause,
          ok: r.ok,
          ...(r.error ? { error: r.error } : {}),
          durationMs: Math.round(r.durationMs),
          repair,
          ...(repair ? { attempt: this.backoff[r.action.agentId]?.repairs } : {}),
          ...(this.multi && r.action.engine !== undefined ? { engine: r.action.engine } : {}),
        };
      }),
      held: d.held.map((h) => ({
        agent: h.agent,
        delayMs: h.delayMs,
        retryInMs: Math.max(0, h.until - now),
        retryAt: new Date(h.until).toISOString(),
        attempt: h.attempt,
      })),
      withheld,
      unreachable,
      unchanged: report.unchanged.length + unlooked,
      agents: desired.agents.length,
      unwell,
      newlyUnwell,
      recovered,
    };
  }

  private emit(body: WatchEventBody): void {
    try {
      const project = this.desired?.project;
      this.opts.onEvent?.({
        time: new Date().toISOString(),
        ...(project && { project }),
        ...body,
      } as WatchEvent);
    } catch {
      // A failing log callback must not take the controller down.
    }
  }
}

/** The specs applied after a reconcile: all of `desired`'s but the withheld agents', which keep their old one. */
function appliedAfter(desired: SpecKeys, before: SpecKeys, withheld: ReadonlySet<string>): SpecKeys {
  if (withheld.size === 0) return desired;
  const next: Record<string, string> = { ...desired };
  for (const agent of withheld) {
    const old = before[agent];
    if (old === undefined) delete next[agent];
    else next[agent] = old;
  }
  return next;
}

function emptyPlan(project: string): Decision['plan'] {
  return { project, actions: [], unchanged: [], conflicts: [] };
}

async function statKey(file: string): Promise<string> {
  const st = await fs.stat(file).catch(() => undefined);
  return st ? `${st.size}:${st.mtimeMs}:${st.ino}` : 'missing';
}

/** One engine's event subscription. */
interface EngineWatch {
  name: string;
  /** Its address and credentials: a change of them is a different engine, followed afresh. */
  key: string;
  /** What inspect said of each of its containers since their last event. */
  cache: InspectCache;
  abort: AbortController;
  done: Promise<void>;
  /** undefined until the first subscription was accepted (or failed). */
  state: 'connected' | 'disconnected' | undefined;
}

function engineKey(spec: EngineSpec): string {
  return JSON.stringify([spec.host ?? '', spec.tls ?? null, spec.identityFile ?? null]);
}
