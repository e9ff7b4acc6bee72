/**
 * A persistent shell in an agent: one long-lived exec per session (see scripts.ts for the processes,
 * the protocol and the threat model). A call costs a line on the exec's stdin and a frame on its
 * stdout; nothing polls while the session is idle. Calls are serialized; killing a job, or the
 * command of the running call (timeout, cancel, restart, close), never waits behind them: kills go
 * through a separate exec (src/ops/exec-kill.ts).
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { DockerPort, ExecOutcome } from '../docker/port.js';
import { AgentctlError, EXIT } from '../errors.js';
import { KILL_SCRIPT, killMarked } from '../ops/exec-kill.js';
import { notRunningError, type ResolvedAgent } from '../ops/resolve-agent.js';
import { encodeForShell } from './encode.js';
import { type Frame, FrameReader } from './frames.js';
import { capped } from './output.js';
import { JOB_SCRIPT, SUPERVISOR_SCRIPT, WORKER_SCRIPT } from './scripts.js';
import { type JobOutput, type JobOutputOptions, readJob } from './jobs.js';
import { settlesWithin } from '../util/settles-within.js';

export interface SessionOptions {
  /** Sessions of one agent are told apart by name (default `default`). */
  name?: string;
  /** Where the shell starts (default: the agent's working directory, /mnt). */
  cwd?: string;
  /** Added to the shell's environment. */
  env?: Record<string, string>;
  /** Bytes kept of each of stdout and stderr per call, head and tail (default 1 MiB). */
  maxOutputBytes?: number;
}

export interface SessionRunOptions {
  /** Kill the command (with every process it started) after this long: exit code 124. */
  timeoutMs?: number;
  /** What the command reads on stdin; otherwise it reads /dev/null. */
  stdin?: string | Buffer;
  /** Start the command as a background job and return at once with its `jobId`. */
  background?: boolean;
  /** Aborting kills the command like a timeout: exit code 130. */
  signal?: AbortSignal;
  /** Overrides the session's maxOutputBytes for this call. */
  maxOutputBytes?: number;
}

export interface SessionResult {
  /** The command's exit code: 124 after a timeout, 130 after an abort. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The shell's working directory after the command. */
  cwd: string;
  timedOut: boolean;
  interrupted: boolean;
  /** Output went over the cap: stdout/stderr hold its head and tail, `fullOutput` says where it all is. */
  truncated: boolean;
  /** How many bytes the command wrote to each stream (all of them, kept or not). */
  bytes: { stdout: number; stderr: number };
  /** Paths inside the container holding the whole output of a truncated call, until the next one. */
  fullOutput?: { stdout: string; stderr: string };
  durationMs: number;
  /**
   * This call ran in a new shell: the previous one ended (`exit`, `exec`, `set -e`, a timeout, a
   * restarted container). Non-exported variables, functions, aliases and options are gone; the
   * working directory and exported variables were carried over, except after a restarted container.
   */
  restarted: boolean;
  /** With `background`: the job's id (for jobOutput and kill). */
  jobId?: string;
}

export interface JobInfo {
  jobId: string;
  command: string;
  startedAt: string;
  killed: boolean;
}

export const DEFAULT_SESSION_OUTPUT_BYTES = 1024 * 1024;
/** After killing a command, how long the supervisor gets to report before the session is dropped. */
const REPORT_AFTER_KILL_MS = 5000;
const CLOSE_WAIT_MS = 10_000;

type Stop = 'timeout' | 'interrupt' | 'restart' | 'close';

interface Live {
  agent: ResolvedAgent;
  key: string;
  dir: string;
  shell: 'bash' | 'sh';
  stdin: PassThrough;
  reader: FrameReader;
  abandon: AbortController;
  ended: Promise<void>;
  isEnded: boolean;
  stderrTail: string;
  gen: number;
  workerMarker?: string;
}

interface Job extends JobInfo {
  marker: string;
  path: string;
  agent: ResolvedAgent;
}

const hex = (n: number) => randomBytes(n).toString('hex');

export class Session {
  readonly agentId: string;
  readonly name: string;
  private readonly maxOutputBytes: number;
  private live?: Live;
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private closed = false;
  /** The shell's state was lost since the last call (the next result says `restarted`). */
  private lost = false;
  /** Carried over into a replacement worker. */
  private cwd = '';
  private restoreEnv = false;
  private current?: (reason: Stop) => void;
  private readonly jobList = new Map<string, Job>();
  private jobSeq = 0;

  constructor(
    private readonly port: DockerPort,
    private readonly resolve: (fresh: boolean) => Promise<ResolvedAgent>,
    agentId: string,
    private readonly opts: SessionOptions = {},
    private readonly onClose?: () => void,
  ) {
    this.agentId = agentId;
    this.name = opts.name ?? 'default';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.name))
      throw new AgentctlError(
        'usage',
        `a session name is 1 to 64 letters, digits, '.', '_' or '-', got "${this.name}"`,
      );
    this.maxOutputBytes = checkCap(opts.maxOutputBytes ?? DEFAULT_SESSION_OUTPUT_BYTES);
  }

  /** Starts the shell now rather than on the first call (errors show up here). */
  async open(): Promise<this> {
    await this.enqueue(() => this.ensureWorker());
    return this;
  }

  /** Which shell runs the commands: bash where the image has it, sh otherwise (after the first call). */
  get shell(): 'bash' | 'sh' | undefined {
    return this.live?.shell;
  }

  run(command: string, opts: SessionRunOptions = {}): Promise<SessionResult> {
    if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0))
      throw new AgentctlError('usage', `timeoutMs must be > 0, got ${opts.timeoutMs}`);
    const cap = checkCap(opts.maxOutputBytes ?? this.maxOutputBytes);
    return this.enqueue(() => this.runNow(command, opts, cap));
  }

  /** Kills the running command, if any, and gives the session a fresh shell (no state carried over). */
  async restart(): Promise<void> {
    this.current?.('restart');
    await this.enqueue(async () => {
      const live = this.live;
      if (live && !live.isEnded && live.workerMarker) {
        await killMarked(this.port, live.agent.id, live.workerMarker, undefined);
        live.workerMarker = undefined;
      }
      this.cwd = '';
      this.restoreEnv = false;
      this.lost = false;
      await this.ensureWorker();
    });
  }

  /** The background jobs started in this session. */
  jobs(): JobInfo[] {
    return [...this.jobList.values()].map(({ jobId, command, startedAt, killed }) => ({
      jobId,
      command,
      startedAt,
      killed,
    }));
  }

  /** A job's state and output (from `since` byte offsets on). Does not wait behind a running call. */
  async jobOutput(jobId: string, opts: JobOutputOptions = {}): Promise<JobOutput> {
    const job = this.job(jobId);
    return readJob(this.port, job.agent, job, { maxBytes: this.maxOutputBytes, ...opts });
  }

  /** Kills a job and everything it started. Does not wait behind a running call. */
  async kill(jobId: string): Promise<void> {
    const job = this.job(jobId);
    job.killed = true;
    if (!(await killMarked(this.port, job.agent.id, job.marker, undefined)))
      throw new AgentctlError(
        'engine',
        `could not kill every process of job ${jobId} in agent ${this.agentId}`,
      );
  }

  /** Ends the shell, its running command and its jobs, and deletes its files in the container. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.current?.('close');
    const live = this.live;
    this.live = undefined;
    this.onClose?.();
    if (!live) return;
    // End of input: the supervisor kills everything of the session and removes its directory.
    live.stdin.end();
    if (!(await settlesWithin(live.ended, CLOSE_WAIT_MS))) {
      await killMarked(this.port, live.agent.id, `${live.key}-`, undefined, { prefix: true });
      live.abandon.abort();
    }
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.closed)
        throw new AgentctlError('usage', `session ${this.name} of agent ${this.agentId} is closed`);
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private job(jobId: string): Job {
    const job = this.jobList.get(jobId);
    if (!job) {
      const known = [...this.jobList.keys()].join(', ') || 'none';
      throw new AgentctlError('not-found', `no job "${jobId}" in session ${this.name} (jobs: ${known})`);
    }
    return job;
  }

  private async runNow(command: string, opts: SessionRunOptions, cap: number): Promise<SessionResult> {
    const started = performance.now();
    if (command.includes('\0')) throw new AgentctlError('usage', 'a command cannot contain a NUL byte');
    let restarted = false;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted)
        return emptyResult(this.cwd, EXIT.interrupted, started, { interrupted: true });
      const live = await this.ensureWorker();
      restarted ||= this.lost;
      this.lost = false;
      const nonce = hex(16);
      const seq = ++this.seq;
      let jobId: string | undefined;
      let line: string;
      if (opts.background) {
        jobId = `${this.name}-${++this.jobSeq}`;
        const marker = `${live.key}-${hex(4)}`;
        line = `J ${nonce} ${seq} ${jobId} ${marker} ${encodeForShell(command)}\n`;
        this.jobList.set(jobId, {
          jobId,
          command,
          startedAt: new Date().toISOString(),
          killed: false,
          marker,
          path: `${live.dir}/jobs/${jobId}`,
          agent: live.agent,
        });
      } else {
        const stdin = opts.stdin === undefined ? '' : `I ${encodeForShell(opts.stdin)}\n`;
        line = `${stdin}C ${nonce} ${seq} ${cap} ${opts.stdin === undefined ? 0 : 1} ${encodeForShell(command)}\n`;
      }
      const { frame, stopped } = await this.exchange(live, nonce, line, cap, opts);
      if (!frame) {
        // The supervisor never reported: the session is gone (stream ended, or dropped after a kill).
        if (stopped === 'timeout' || stopped === 'interrupt')
          return emptyResult(this.cwd, stopped === 'timeout' ? EXIT.timeout : EXIT.interrupted, started, {
            timedOut: stopped === 'timeout',
            interrupted: stopped === 'interrupt',
            restarted,
          });
        throw this.endedError(live, stopped);
      }
      const [, r, begun, st, on, en, cwd] = frame.fields;
      const outBytes = Number(on);
      const errBytes = Number(en);
      if (r !== 'ok') {
        live.workerMarker = undefined;
        // The worker was dead before it saw the command: nothing ran; run it in a new one.
        if (begun !== '1' && !stopped && attempt === 0) {
          this.restoreEnv = true;
          continue;
        }
        this.lost = true;
        this.restoreEnv = true;
      } else {
        this.cwd = cwd ?? this.cwd;
      }
      const keep = outBytes > cap || errBytes > cap;
      const paths = keep ? { stdout: `${live.dir}/o${seq}`, stderr: `${live.dir}/e${seq}` } : undefined;
      const out = capped(frame.body.subarray(0, Math.min(outBytes, cap)), outBytes, cap, paths?.stdout);
      const err = capped(frame.body.subarray(Math.min(outBytes, cap)), errBytes, cap, paths?.stderr);
      const exitCode =
        stopped === 'timeout' ? EXIT.timeout : stopped === 'interrupt' ? EXIT.interrupted : Number(st);
      return {
        exitCode,
        stdout: out.text,
        stderr: err.text,
        cwd: this.cwd,
        timedOut: stopped === 'timeout',
        interrupted: stopped === 'interrupt',
        truncated: keep,
        bytes: { stdout: outBytes, stderr: errBytes },
        ...(paths ? { fullOutput: paths } : {}),
        durationMs: performance.now() - started,
        restarted,
        ...(jobId ? { jobId } : {}),
      };
    }
  }

  /**
   * Sends a call and waits for its frame, killing the command on timeout or abort. Resolves without
   * a frame when the session ended (or was dropped because it did not report after a kill).
   */
  private async exchange(
    live: Live,
    nonce: string,
    line: string,
    cap: number,
    opts: SessionRunOptions,
  ): Promise<{ frame?: Frame; stopped?: Stop }> {
    let stopped: Stop | undefined;
    let giveUp: () => void = () => undefined;
    const gaveUp = new Promise<undefined>((resolve) => (giveUp = () => resolve(undefined)));
    const framePromise = live.reader.expect(nonce, 7, (type, f) =>
      type === 'R' ? Math.min(Number(f[4]), cap) + Math.min(Number(f[5]), cap) : 0,
    );
    const stop = (reason: Stop) => {
      if (stopped) return;
      stopped = reason;
      const marker = live.workerMarker;
      void (async () => {
        if (reason !== 'close' && marker) await killMarked(this.port, live.agent.id, marker, undefined);
        if (reason === 'close') return giveUp();
        if (!(await settlesWithin(framePromise, REPORT_AFTER_KILL_MS))) {
          // Something holds the supervisor up: drop the whole session; the next call starts anew.
          await killMarked(this.port, live.agent.id, `${live.key}-`, undefined, { prefix: true });
          live.abandon.abort();
          giveUp();
        }
      })();
    };
    const timer =
      opts.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
    const onAbort = () => stop('interrupt');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.current = stop;
    try {
      live.stdin.write(line);
      const frame = await Promise.race([framePromise, live.ended.then(() => undefined), gaveUp]);
      if (!frame) {
        live.reader.cancel();
        this.dropLive(live);
      }
      return { frame, stopped };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
    }
  }

  private dropLive(live: Live): void {
    if (this.live === live) this.live = undefined;
    this.lost = true;
    // A new container (or a killed shell) has none of the old state to restore.
    this.restoreEnv = false;
    live.stdin.end();
  }

  private endedError(live: Live, stopped: Stop | undefined): AgentctlError {
    if (stopped === 'close')
      return new AgentctlError(
        'usage',
        `session ${this.name} of agent ${this.agentId} was closed while the command ran`,
      );
    const why = live.stderrTail.trim();
    return new AgentctlError(
      'engine',
      `the shell of session ${this.name} in agent ${this.agentId} ended while the command ran` +
        `${why ? ` (${why})` : ''}; the next call starts a new shell`,
    );
  }

  /** The live exec with a running worker, starting either as needed. */
  private async ensureWorker(): Promise<Live> {
    let live = this.live;
    if (!live || live.isEnded) {
      if (live) this.dropLive(live);
      live = await this.startExec();
    }
    if (!live.workerMarker) {
      live.gen++;
      live.workerMarker = `${live.key}-${hex(4)}`;
      const restore = this.restoreEnv ? 1 : 0;
      live.stdin.write(`W ${live.gen} ${live.workerMarker} ${restore} ${encodeForShell(this.cwd)}\n`);
    }
    return live;
  }

  private async startExec(): Promise<Live> {
    const hadShell = this.seq > 0;
    let agent = await this.resolve(false);
    let outcome: Live | ExecOutcome = await this.tryStart(agent);
    if (!('key' in outcome) && outcome.status !== 'exited') {
      // The container was recreated or removed since we looked it up: look again, once.
      agent = await this.resolve(true);
      outcome = await this.tryStart(agent);
    }
    if (!('key' in outcome)) {
      if (outcome.status === 'no-container')
        throw new AgentctlError('not-found', `agent ${this.agentId} no longer exists`, { cause: outcome });
      if (outcome.status === 'not-running') throw notRunningError({ agentId: this.agentId }, outcome);
      throw new AgentctlError('engine', `cannot start a shell in agent ${this.agentId}`);
    }
    this.live = outcome;
    if (hadShell) this.lost = true;
    return outcome;
  }

  /** Starts the supervisor; resolves when it is ready, or with the exec's outcome if it never was. */
  private async tryStart(agent: ResolvedAgent): Promise<Live | ExecOutcome> {
    const key = hex(8);
    const reader = new FrameReader();
    const stdin = new PassThrough();
    const abandon = new AbortController();
    const hello = reader.expect(key, 2, () => 0);
    let stderrTail = '';
    const env = Object.entries(this.opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const execution = this.port
      .exec(
        agent.id,
        {
          cmd: [
            'sh',
            '-c',
            SUPERVISOR_SCRIPT,
            'agentctl-session',
            key,
            WORKER_SCRIPT,
            JOB_SCRIPT,
            KILL_SCRIPT,
            `${key}-`,
          ],
          env: [...env, `AGENTCTL_EXEC_ID=${key}-${hex(4)}`],
          workdir: this.opts.cwd,
          stdin,
          signal: abandon.signal,
        },
        {
          onOutput: (stream, chunk) => {
            if (stream === 'stdout') return reader.push(chunk);
            stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
            if (holder.live) holder.live.stderrTail = stderrTail;
          },
        },
      )
      .catch((err: unknown): ExecOutcome => {
        if (abandon.signal.aborted) return { status: 'exited', exitCode: null, started: true };
        throw err;
      });
    const holder: { live?: Live } = {};
    const first = await Promise.race([hello, execution]);
    if (!('type' in first)) {
      if (first.status === 'exited') {
        const why = stderrTail.trim() || `exit code ${first.exitCode}`;
        throw new AgentctlError('engine', `cannot start a shell in agent ${this.agentId}: ${why}`);
      }
      return first;
    }
    if (first.type !== 'H') {
      stdin.end();
      throw new AgentctlError(
        'engine',
        `cannot start a shell in agent ${this.agentId}: ${first.fields.join(' ')}`,
      );
    }
    const live: Live = {
      agent,
      key,
      shell: first.fields[0] === 'bash' ? 'bash' : 'sh',
      dir: first.fields[1] ?? '',
      stdin,
      reader,
      abandon,
      ended: execution.then(
        () => undefined,
        () => undefined,
      ),
      isEnded: false,
      stderrTail,
      gen: 0,
    };
    holder.live = live;
    void live.ended.then(() => (live.isEnded = true));
    return live;
  }
}

function checkCap(n: number): number {
  if (!Number.isInteger(n) || n < 0)
    throw new AgentctlError('usage', `maxOutputBytes must be a whole number >= 0, got ${n}`);
  return n;
}

function emptyResult(
  cwd: string,
  exitCode: number,
  started: number,
  flags: { timedOut?: boolean; interrupted?: boolean; restarted?: boolean },
): SessionResult {
  return {
    exitCode,
    stdout: '',
    stderr: '',
    cwd,
    timedOut: flags.timedOut ?? false,
    interrupted: flags.interrupted ?? false,
    truncated: false,
    bytes: { stdout: 0, stderr: 0 },
    durationMs: performance.now() - started,
    restarted: flags.restarted ?? false,
  };
}
