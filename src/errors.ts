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
  | 'not-running';

export class AgentctlError extends Error {
  readonly kind: ErrorKind;
  readonly pos?: SourcePos;
  /** Further lines (one per problem) when several things are wrong at once. */
  readonly details: string[];
  /** A config error's problems, positioned (the message and details are them, formatted). */
  readonly problems: ConfigProblem[];

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { pos?: SourcePos; details?: string[]; problems?: ConfigProblem[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AgentctlError';
    this.kind = kind;
    this.pos = opts.pos;
    this.details = opts.details ?? [];
    this.problems = opts.problems ?? [];
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

/** `file:line:col: message`, or just the message when there is no position. */
export function formatAt(pos: SourcePos | undefined, message: string): string {
  if (!pos) return message;
  return `${pos.file}:${pos.line}:${pos.col}: ${message}`;
}

/** A config problem at a position. Several are collected into one ConfigError. */
export interface ConfigProblem {
  pos?: SourcePos;
  message: string;
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
} as const;

export function exitCodeFor(_err: AgentctlError): number {
  // Every error kind is exit 1 today; the mapping lives here so a new kind gets a deliberate choice.
  return EXIT.failure;
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
