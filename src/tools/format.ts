/**
 * How a session result reads to a model: the output as it is, stderr apart, and one closing line with
 * the exact exit code, the working directory, and whatever else happened (timeout, restart, cut
 * output and where the rest is). A non-zero exit code is a normal result, not a tool error.
 */
import type { JobOutput } from '../session/jobs.js';
import type { SessionResult } from '../session/session.js';

export function formatRun(r: SessionResult, timeoutMs?: number): string {
  if (r.jobId !== undefined)
    return `Started background job ${r.jobId}; read its output with bash_output and stop it with bash_kill.`;
  const parts: string[] = [];
  if (r.stdout) parts.push(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
  if (r.stderr) parts.push(`[stderr]\n${r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`}`);
  const notes = [`exit code ${r.exitCode}`, `cwd ${r.cwd}`];
  if (r.timedOut)
    notes.push(
      `timed out${timeoutMs ? ` after ${timeoutMs / 1000} s` : ''}: the command and everything it started were killed`,
    );
  if (r.interrupted) notes.push('cancelled: the command and everything it started were killed');
  if (r.restarted)
    notes.push('this ran in a new shell: the previous one had ended (cwd and exported variables were kept)');
  if (r.truncated && r.fullOutput)
    notes.push(
      `output cut to its head and tail (stdout ${r.bytes.stdout} bytes, stderr ${r.bytes.stderr} bytes); ` +
        `the whole output is in ${r.fullOutput.stdout} and ${r.fullOutput.stderr} until the next cut output`,
    );
  parts.push(`[${notes.join('; ')}]`);
  return parts.join('');
}

export function formatJob(o: JobOutput): string {
  const parts: string[] = [];
  if (o.stdout) parts.push(o.stdout.endsWith('\n') ? o.stdout : `${o.stdout}\n`);
  if (o.stderr) parts.push(`[stderr]\n${o.stderr.endsWith('\n') ? o.stderr : `${o.stderr}\n`}`);
  const state =
    o.status === 'exited'
      ? `exited with code ${o.exitCode}`
      : o.status === 'running'
        ? 'still running'
        : o.status === 'killed'
          ? 'killed'
          : 'gone (no process left and no exit code: killed from outside, or the agent restarted)';
  const more = o.truncated ? '; more output follows: call bash_output again' : '';
  parts.push(
    `[job ${o.jobId}: ${state}; stdout ${o.bytes.stdout} bytes, stderr ${o.bytes.stderr} bytes in all${more}; ` +
      `files ${o.files.stdout}, ${o.files.stderr}]`,
  );
  return parts.join('');
}
