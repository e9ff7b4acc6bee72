/**
 * The one errors module. Every failure a user can cause or meet is an AgentctlError with a kind;
 * the CLI's single top-level handler maps kinds to exit codes and prints `message` (already formatted,
 * `file:line:col: ...` where a position exists).
 */
import type { SourcePos } from './types.js';

export type ErrorKind =
  /** The config file is missing, unreadable, invalid YAML or fails validation. */
  | 'config'
  /** A command-line flag or argument is wrong. */
  | 'usage'
  /** The Docker engine cannot be reached. */
  | 'engine-unreachable'
  /** The engine did not answer within the deadline (a hung or overloaded dockerd). */
  | 'engine-timeout'
  /** The engine refused or failed an operation. */
  | 'engine'
  /** A check before any change failed (image missing, limits above the host's, name clash...). */
  | 'preflight'
  /** Another agentctl run holds the project's lock. */
  | 'locked'
  /** An agent or container was not found. */
  | 'not-found'
  /** Refused because it would be unsafe (empty fleet, symlinked data directory...). */
  | 'unsafe'
  /** The agent exists but is not running, so nothing can run in it. */
  | 'not-running'
  /** SIGINT or SIGTERM stopped the run before it changed anything (exit 130 or 143). */
  | 'interrupted';

/**
 * An option of the library call that would let a refused operation go ahead. Library messages never
 * name a command-line flag: the CLI's top-level handler turns this into its own hint (src/cli/hints.ts).
 */
export type OptIn =
  | 'force'
  | 'allowMassPrune'
  | 'allowEmpty'
  | 'allowForeignPrune'
  | 'allowForeignChange'
  | 'project'
  | 'engineTimeout'
  | 'adopt'
  /** Move an agent, and its working directory, to the engine the file now puts it on. */
  | 'migrate'
  /** Look the agent up on one named engine of the file (where a stray copy is), not on its own. */
  | 'engine'
  /** A stray copy: `migrate` moves it to its own engine, `engine` acts on it where it is. */
  | 'migrateOrEngine';

export class AgentctlError extends Error {
  readonly kind: ErrorKind;
  /** What the caller may set to go ahead anyway, if anything (see OptIn). */
  readonly optIn?: OptIn;
  readonly pos?: SourcePos;
  /** Further lines (one per problem) when several things are wrong at once. */
  readonly details: string[];
  /** A config error's problems, positioned (the message and details are them, formatted). */
  readonly problems: ConfigProblem[];

  constructor(
    kind: ErrorKind,
    message: string,
    opts: {
      pos?: SourcePos;
      details?: string[];
      problems?: ConfigProblem[];
      cause?: unknown;
      optIn?: OptIn;
    } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AgentctlError';
    this.kind = kind;
    if (opts.optIn !== undefined) this.optIn = opts.optIn;
    this.pos = opts.pos;
    this.details = opts.details ?? [];
    this.problems = opts.problems ?? [];
  }
}

/**
 * The one engine an agent had to be looked up on (the file's engine for it, or the engine chosen) could
 * not be reached or did not answer in time: its kind and message are that engine's failure, `engine`
 * names it in the file. A caller reading several agents reports that engine and goes on with the others.
 */
export class AgentEngineUnreachableError extends AgentctlError {
  readonly engine: string;

  constructor(engine: string, err: AgentctlError) {
    super(err.kind, err.message, { details: err.details, cause: err, optIn: err.optIn });
    this.name = 'AgentEngineUnreachableError';
    this.engine = engine;
  }
}

/**
 * A build stopped because its base image (`FROM`) is not on the engine and could not be pulled. The
 * message says so; callers that know where the build came from add how to make the image.
 */
export class BaseImageUnavailableError extends AgentctlError {
  readonly image: string;
  readonly baseImage: string;
  readonly engineMessage: string;

  constructor(image: string, baseImage: string, engineMessage: string, hint?: string) {
    super(
      'preflight',
      `build ${image}: its base image ${baseImage} is not on the engine and could not be pulled (${engineMessage}). ` +
        (hint ??
          `Put it on the engine first: \`docker pull ${baseImage}\` where a registry is reachable, or \`docker load -i FILE\` from a saved copy.`),
    );
    this.name = 'BaseImageUnavailableError';
    this.image = image;
    this.baseImage = baseImage;
    this.engineMessage = engineMessage;
  }
}

/**
 * A watcher (`apply --watch`) holds the project and would undo the change asked for within a second:
 * start agents it keeps stopped, or stop agents it keeps running. Refused unless the caller opts in
 * with `force`.
 */
export class WatcherWouldUndoError extends AgentctlError {
  readonly project: string;
  readonly watcherPid: number;
  readonly file: string;
  readonly agents: string[];
  readonly action: 'stop' | 'start' | 'restart';

  constructor(w: {
    project: string;
    pid: number;
    since: string;
    file: string;
    agents: string[];
    action: 'stop' | 'start' | 'restart';
  }) {
    const undo = w.action === 'stop' ? 'start' : 'stop';
    const keep = w.action === 'stop' ? 'stopped' : 'running';
    super(
      'locked',
      `project "${w.project}" is watched by pid ${w.pid} (agentctl apply --watch, since ${w.since}), which keeps it as ${w.file} declares: it would ${undo} ${w.agents.join(', ')} again within a second. ` +
        `To keep ${w.agents.length === 1 ? 'it' : 'them'} ${keep}, set \`state: ${keep}\` in that file (the watcher applies it), or stop the watcher first`,
      { optIn: 'force' },
    );
    this.name = 'WatcherWouldUndoError';
    this.project = w.project;
    this.watcherPid = w.pid;
    this.file = w.file;
    this.agents = w.agents;
    this.action = w.action;
  }
}

/**
 * Code (createAgent, run) asked to create an agent that exists already (some container of it, in any
 * state) where only a new one may be made: nothing was changed.
 */
export class AgentExistsError extends AgentctlError {
  constructor(
    readonly agent: string,
    readonly project: string,
    readonly containers: readonly { id: string; name: string; state: string }[],
  ) {
    const first = containers[0];
    super(
      'usage',
      `agent ${agent} already exists in project "${project}"${first ? ` (container ${first.name}, ${first.state})` : ''}; refusing to replace it, nothing was changed`,
    );
    this.name = 'AgentExistsError';
  }
}

/**
 * Code (createAgent, run) asked to create or change an agent that a file manages: its container records
 * the agents.yaml whose apply made it (the `agentctl.file` label), and that file still exists. Changing
 * it from code would be undone, or fought over, by the file's next apply: refused, nothing changed.
 * `optIn` is `adopt` where the call can take the agent over (createAgent), absent where it cannot (run
 * never replaces an agent).
 */
export class FileManagedAgentError extends AgentctlError {
  constructor(
    readonly agent: string,
    readonly project: string,
    readonly file: string,
    readonly container: string,
    adoptable: boolean,
  ) {
    super(
      'unsafe',
      `agent ${agent} of project "${project}" is managed by ${file} (its container ${container} was made by that file's apply); refusing to change it from code, nothing was changed: change the agent in that file and apply it${adoptable ? ', or take the agent over' : ''}`,
      adoptable ? { optIn: 'adopt' } : {},
    );
    this.name = 'FileManagedAgentError';
  }
}

/** `file:line:col: message`, or just the message when there is no position. */
export function formatAt(pos: SourcePos | undefined, message: string): string {
  if (!pos) return message;
  return `${pos.file}:${pos.line}:${pos.col}: ${message}`;
}

/** A config problem at a position. Several are collected into one ConfigError. */
export interface ConfigProblem {
  pos?: SourcePos;
  message: string;
  /**
   * The field the problem is about (`['agents', 'x', 'memory']`) and what is wrong with it, without the
   * path (`expected a size like 512m`): for callers whose config is not a file (createAgent, run), whose
   * positions mean nothing, to say it in their own terms (run: the flag).
   */
  path?: readonly (string | number)[];
  reason?: string;
}

export function configError(problems: ConfigProblem[]): AgentctlError {
  const lines = problems.map((p) => formatAt(p.pos, p.message));
  const first = problems[0];
  return new AgentctlError('config', lines[0] ?? 'invalid configuration', {
    pos: first?.pos,
    details: lines.slice(1),
    problems,
  });
}

export const EXIT = {
  ok: 0,
  failure: 1,
  /** `diff`: changes are pending. */
  changes: 2,
  /** A command run by `exec` timed out. */
  timeout: 124,
  /** SIGINT (128 + 2). */
  interrupted: 130,
  /** SIGTERM (128 + 15). */
  terminated: 143,
  /** Its reader went away (`agentctl ps | head`): as a pipe's writer killed by SIGPIPE (128 + 13). */
  closedPipe: 141,
} as const;

/**
 * A run stopped by a signal before it changed anything (while it waited for the project lock): exits
 * as a process killed by that signal would, 130 or 143.
 */
export class InterruptedError extends AgentctlError {
  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super('interrupted', message);
    this.name = 'InterruptedError';
  }
}

export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

export function exitCodeFor(err: AgentctlError): number {
  // Every other kind is exit 1; the mapping lives here so a new kind gets a deliberate choice.
  if (err instanceof InterruptedError) return exitCodeForSignal(err.signal);
  return EXIT.failure;
}

/** The host's inotify limits and this process's open-files limit, as read when a file watch failed. */
export interface WatchLimits {
  maxUserInstances?: number;
  maxUserWatches?: number;
  nofile?: number;
  /** This process's descriptors open now. */
  openFiles?: number;
}

/**
 * A file watch the kernel refused for one of its inotify limits, said as that limit: the error itself
 * (EMFILE "too many open files", ENOSPC "no space left on device") names neither. Undefined for any
 * other error. Each program watching files holds an inotify instance of its user's (agentctl's watcher
 * one, whatever the fleet's size), and one watch per file or directory it watches.
 */
export function fileWatchLimitError(
  file: string,
  err: unknown,
  limits: WatchLimits,
): AgentctlError | undefined {
  const e = err as { code?: string; message?: string };
  const raw = e?.message ?? String(err);
  if (e?.code === 'EMFILE') {
    const instances = limits.maxUserInstances ?? 'its limit';
    // inotify_init says EMFILE for both limits: this process's own descriptors tell which one it was.
    const ownFull =
      limits.nofile === undefined ||
      limits.openFiles === undefined ||
      limits.openFiles >= limits.nofile * 0.9;
    const own = ownFull
      ? `, or this process's open files are at their limit${limits.nofile === undefined ? '' : ` (${limits.nofile})`}`
      : '';
    return new AgentctlError(
      'preflight',
      `cannot watch ${file}: the kernel refused an inotify instance: this user's instances are all taken (fs.inotify.max_user_instances is ${instances}; every program watching files holds one)${own}. Raise it (sysctl -w fs.inotify.max_user_instances=1024) or stop watchers you do not need (${raw})`,
      { cause: err },
    );
  }
  if (e?.code === 'ENOSPC') {
    const watches = limits.maxUserWatches ?? 'its limit';
    return new AgentctlError(
      'preflight',
      `cannot watch ${file}: the kernel refused an inotify watch: this user's watches are all taken (fs.inotify.max_user_watches is ${watches}; one per file or directory watched, by every program). Raise it (sysctl -w fs.inotify.max_user_watches=524288) or stop watchers you do not need (${raw})`,
      { cause: err },
    );
  }
  return undefined;
}

/** Wrap anything thrown into an AgentctlError (unknown errors become `engine` or stay as-is). */
export function toAgentctlError(err: unknown): AgentctlError {
  if (err instanceof AgentctlError) return err;
  const e = err as { code?: string; message?: string; statusCode?: number; json?: { message?: string } };
  if (
    e &&
    (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EACCES') &&
    /connect/i.test(String(e.message))
  ) {
    return new AgentctlError(
      'engine-unreachable',
      `cannot reach the Docker engine (${e.message}); is dockerd running? (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'})`,
      { cause: err },
    );
  }
  const msg = e?.json?.message ?? e?.message ?? String(err);
  return new AgentctlError('engine', msg, { cause: err });
}
