/**
 * Reading a background job's state and output, in a separate exec so that it never waits behind the
 * session's running call. Its files are in the session's directory (scripts.ts): `<id>.out`,
 * `<id>.err`, and `<id>.exit` once it has ended.
 */
import type { DockerPort } from '../docker/port.js';
import { AgentctlError } from '../errors.js';
import { OutputCap } from '../ops/output-cap.js';
import type { ResolvedAgent } from '../ops/resolve-agent.js';
import { JOB_READ_SCRIPT } from './scripts.js';

export interface JobOutputOptions {
  /** Byte offsets to read from (e.g. what an earlier read returned in `bytes`); default 0. */
  since?: { stdout?: number; stderr?: number };
  /** Most bytes returned of each stream from its offset (default: the session's maxOutputBytes). */
  maxBytes?: number;
}

export interface JobOutput {
  jobId: string;
  /** `gone`: no process of it is left and it wrote no exit code (killed, or the container restarted). */
  status: 'running' | 'exited' | 'killed' | 'gone';
  exitCode?: number;
  /** Output from the offsets on, at most maxBytes of each. */
  stdout: string;
  stderr: string;
  /** Each stream's whole size so far: pass it back as `since` to read only what is new. */
  bytes: { stdout: number; stderr: number };
  /** More output than maxBytes followed the offset; read on from `since + returned`. */
  truncated: boolean;
  /** The job's output files inside the container. */
  files: { stdout: string; stderr: string };
}

export async function readJob(
  port: DockerPort,
  agent: ResolvedAgent,
  job: { jobId: string; marker: string; path: string; killed: boolean },
  opts: JobOutputOptions & { maxBytes: number },
): Promise<JobOutput> {
  const fromOut = opts.since?.stdout ?? 0;
  const fromErr = opts.since?.stderr ?? 0;
  const max = opts.maxBytes;
  const out = new OutputCap(max + 4096);
  const err = new OutputCap(max);
  const outcome = await port.exec(
    agent.id,
    {
      cmd: [
        'sh',
        '-c',
        JOB_READ_SCRIPT,
        'agentctl-job-read',
        job.path,
        job.marker,
        `${fromOut}`,
        `${fromErr}`,
        `${max}`,
      ],
    },
    { onOutput: (stream, chunk) => (stream === 'stdout' ? out : err).push(chunk) },
  );
  if (outcome.status !== 'exited' || outcome.exitCode !== 0)
    throw new AgentctlError(
      'engine',
      `cannot read job ${job.jobId} in agent ${agent.agentId}: ${err.text().trim()}`,
    );
  const raw = out.bytes();
  const eol = raw.indexOf(0x0a);
  const [state, code, on, en] = raw.subarray(0, eol).toString('utf8').split(' ');
  const outBytes = Number(on);
  const errBytes = Number(en);
  const status =
    state === 'exited' ? 'exited' : state === 'running' ? 'running' : job.killed ? 'killed' : 'gone';
  return {
    jobId: job.jobId,
    status,
    ...(status === 'exited' ? { exitCode: Number(code) } : {}),
    stdout: raw.subarray(eol + 1).toString('utf8'),
    stderr: err.text(),
    bytes: { stdout: outBytes, stderr: errBytes },
    truncated: outBytes - fromOut > max || errBytes - fromErr > max,
    files: { stdout: `${job.path}.out`, stderr: `${job.path}.err` },
  };
}
