/**
 * What the watch controller reports: one event per line of its log. The CLI renders them as text lines
 * or as one JSON object per line (`--output json`); a library caller gets them through `onEvent`.
 */
import type { ActionKind } from '../types.js';
import type { ErrorKind, OptIn } from '../errors.js';

export interface WatchAction {
  kind: ActionKind;
  agent: string;
  cause: string;
  ok: boolean;
  error?: string;
  durationMs: number;
  /** A repair of drift rather than a change of the file; `attempt` counts repairs since it last recovered. */
  repair: boolean;
  attempt?: number;
  /** The engine it was done on (only for a file with `engines:`). */
  engine?: string;
}

export interface WatchUnwell {
  agent: string;
  /** `restart-looping (restarted 3 time(s))`, `unhealthy (its healthcheck fails: exit 1, "...")`. */
  message: string;
}

/** An engine that could not be reached: nothing was looked at or done for its agents. */
export interface WatchUnreachable {
  engine: string;
  agents: string[];
  message: string;
}

export interface WatchHeld {
  agent: string;
  /** The wait imposed after the previous repair, and what is left of it. */
  delayMs: number;
  retryInMs: number;
  /** When the repair will be made (ISO time). */
  retryAt: string;
  attempt: number;
}

export type WatchEventBody =
  | {
      type: 'watching';
      file: string;
      project: string;
      pid: number;
      agents: number;
      resyncMs: number;
      debounceMs: number;
      /** The engines followed, each with its own event subscription (only for a file with `engines:`). */
      engines?: string[];
    }
  | {
      type: 'reconcile';
      /** Why it ran: start, file, resync, backoff, engine-reconnect, or `engine:<action>:<agent>`. */
      trigger: string[];
      ok: boolean;
      durationMs: number;
      actions: WatchAction[];
      held: WatchHeld[];
      /**
       * Agents withheld for preflight problems of their own (image missing, limits above the host's...):
       * nothing was done for them, the others were applied; each problem is reported once as an `error`
       * with `agents`, and they are retried on every reconcile.
       */
      withheld: string[];
      /**
       * Engines that could not be observed (a file with `engines:`): their agents are held, the other
       * engines' agents are served; the event stream's `engine` event says so once per outage.
       */
      unreachable: WatchUnreachable[];
      /** Agents already as declared. */
      unchanged: number;
      /**
       * Agents the plan left alone that are not well (restart-looping, unhealthy), as diff lists them,
       * sorted; `newlyUnwell` and `recovered` are the changes since the previous reconcile (only they
       * print a line: a loop that goes on is in the status line, not repeated in the log).
       */
      unwell: WatchUnwell[];
      newlyUnwell: string[];
      recovered: string[];
      /** Agents declared in the state applied. */
      agents: number;
    }
  | {
      /** The file could not be used; the last good state stays in force and nothing is changed for it. */
      type: 'config-error';
      file: string;
      /** `file:line:col: message` where a position is known. */
      messages: string[];
      /** The watcher option that would let this change through (set when the watcher is started). */
      optIn?: OptIn;
    }
  | { type: 'config-warning'; message: string }
  /**
   * A reconcile could not run (engine unreachable, preflight failed for the whole run, ...); it is
   * retried. With `agents`: a preflight problem of those agents only, which are withheld while the
   * others are applied; reported when it appears, not again on every reconcile it persists.
   */
  | {
      type: 'error';
      kind: ErrorKind;
      trigger: string[];
      messages: string[];
      agents?: string[];
      /** The option (the CLI: its flag) that would let the withheld agents' change go ahead. */
      optIn?: OptIn;
    }
  /**
   * An agent's repairs started being held by its back-off (it needed a repair again before its wait was
   * over: a crash loop, or something stopping it again and again), or that ended. Said once per change,
   * not on every retry: the repairs themselves still show in `reconcile` events.
   */
  | {
      type: 'backoff';
      agent: string;
      state: 'started';
      /** The repair held, its wait, and when it will be made (ISO time). */
      attempt: number;
      delayMs: number;
      retryAt: string;
      /** The policy: waits double up to `maxDelayMs`; up `resetAfterMs` after a repair ends it. */
      maxDelayMs: number;
      resetAfterMs: number;
    }
  | {
      type: 'backoff';
      agent: string;
      state: 'ended';
      /** recovered: up long enough after its last repair; changed: its spec changed in the file; removed: no longer declared. */
      reason: 'recovered' | 'changed' | 'removed';
    }
  | {
      type: 'engine';
      state: 'connected' | 'disconnected';
      /** Which engine (only for a file with `engines:`, where each engine has its own stream). */
      engine?: string;
      message?: string;
      retryInMs?: number;
      /** disconnected, with `engine`: that engine's agents, held until it is back. */
      agents?: string[];
    }
  | { type: 'stopping'; reason: string }
  | { type: 'stopped' };

/** `project`: the watched file's, once it has been read (a failure before that has none). */
export type WatchEvent = WatchEventBody & { time: string; project?: string };
