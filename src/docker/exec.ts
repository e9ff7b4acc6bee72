/**
 * `docker exec` over plain node:http: create the exec, start it and stream its output, read its exit
 * code. This is the hot path of an agent's tool loop, so it is exactly the three Engine-API calls a raw
 * client makes, with nothing buffered: output pieces go to the caller as they arrive. Used by
 * src/docker/engine.ts only.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EngineHttp, EngineHttpError } from './engine-http.js';
import { Demultiplexer } from './multiplex.js';
import type { ExecIO, ExecOutcome, ExecRequest } from './port.js';

interface ApiExecInspect {
  Running: boolean;
  ExitCode: number | null;
  /** 0 when the runtime never started the process. */
  Pid: number;
}

const q = encodeURIComponent;

export async function runExec(
  http: EngineHttp,
  containerId: string,
  req: ExecRequest,
  io: ExecIO,
  opts: {
    /**
     * For engines that report Pid 0 for every ended exec (Podman): the runtime's message in the output
     * that means the process never started. Unset: Pid 0 means that (dockerd keeps the pid).
     */
    startFailure?: RegExp;
  } = {},
): Promise<ExecOutcome> {
  const tty = req.tty ?? false;
  let execId: string;
  try {
    ({ Id: execId } = await http.json<{ Id: string }>('POST', `/containers/${q(containerId)}/exec`, {
      Cmd: req.cmd,
      Env: req.env ?? [],
      WorkingDir: req.workdir ?? '',
      User: req.user ?? '',
      AttachStdin: req.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: tty,
    }));
  } catch (err) {
    if (err instanceof EngineHttpError && err.statusCode === 404) return { status: 'no-container' };
    // 409: stopped, paused or restarting; the engine's message says which.
    if (err instanceof EngineHttpError && err.statusCode === 409)
      return { status: 'not-running', message: err.message };
    throw err;
  }

  const { output, input } = await http.hijack(
    'POST',
    `/exec/${execId}/start`,
    { Detach: false, Tty: tty },
    // Without stdin the answer can be read as an ordinary response body; stdin needs the raw connection.
    { upgrade: req.stdin !== undefined, signal: req.signal },
  );
  io.onStart?.({
    id: execId,
    resize: (rows, cols) =>
      http.raw('POST', `/exec/${execId}/resize?h=${rows}&w=${cols}`).then(() => undefined),
  });
  if (input && req.stdin !== undefined) sendStdin(input, req.stdin);
  let failedToStart = false;
  const failure = opts.startFailure;
  const watched: ExecIO = failure
    ? {
        ...io,
        onOutput: (stream, chunk) => {
          if (!failedToStart && failure.test(chunk.toString('utf8'))) failedToStart = true;
          return io.onOutput(stream, chunk);
        },
      }
    : io;
  await pump(output, tty, watched);
  const status = await exitStatus(http, execId, req.signal);
  return { status: 'exited', ...status, ...(failure ? { started: !failedToStart } : {}) };
}

/** Writes stdin, then half-closes the connection so the process sees end of file. */
function sendStdin(socket: Duplex, stdin: ExecRequest['stdin']): void {
  // The process may exit without reading its input: a broken pipe then is not an error.
  socket.on('error', () => undefined);
  if (Buffer.isBuffer(stdin)) {
    socket.end(stdin);
    return;
  }
  stdin?.pipe(socket);
}

/** Reads the output to its end, demultiplexing unless it is a TTY's, with the caller's backpressure. */
function pump(
  output: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown },
  tty: boolean,
  io: ExecIO,
): Promise<void> {
  return new Promise((resolve) => {
    let pending: Promise<void>[] = [];
    const deliver = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
      const p = io.onOutput(stream, chunk);
      if (p) pending.push(p);
    };
    const demux = tty ? undefined : new Demultiplexer(deliver);
    output.on('data', (chunk: Buffer) => {
      if (demux) demux.push(chunk);
      else deliver('stdout', chunk);
      if (pending.length === 0) return;
      output.pause();
      const waiting = pending;
      pending = [];
      void Promise.allSettled(waiting).then(() => output.resume());
    });
    // The engine closes the connection when the process's output ends; an aborted or reset
    // connection ends it too, and the exit status then says what happened.
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    output.on('end', finish);
    output.on('close', finish);
    output.on('error', finish);
  });
}

/**
 * The output ends when the process's stdout and stderr close, which is usually as it exits; the exit
 * code is recorded moments later. A process can also close them and run on, so a `Running` answer is
 * retried until it exits (with backoff) or the caller aborts.
 */
async function exitStatus(
  http: EngineHttp,
  execId: string,
  signal: AbortSignal | undefined,
): Promise<{ exitCode: number | null; started: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const e = await http.json<ApiExecInspect>('GET', `/exec/${execId}/json`);
    if (!e.Running && e.ExitCode !== null) return { exitCode: e.ExitCode, started: e.Pid !== 0 };
    if (signal?.aborted) return { exitCode: null, started: e.Pid !== 0 };
    await sleep(Math.min(1 + attempt * 2, 100));
  }
}
