/**
 * The MCP server's tools, on the official SDK: `bash` (persistent sessions, background jobs),
 * `bash_output`, `bash_kill` and `str_replace_based_edit_tool`. One McpServer per client connection;
 * the agents and their sessions are shared through the AgentBinding, each client's sessions under a
 * name prefix of its own so that two clients never share a shell.
 *
 * Results: a command's non-zero exit code is a normal result; `isError` means the tool itself failed
 * (no such agent or job, the agent is stopped, a bad argument). Long commands send a progress
 * notification every few seconds when the client asked for progress (clients give up after 60 s
 * without one); a cancelled request kills its command inside the container.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { toAgentctlError } from '../errors.js';
import type { Session } from '../session/session.js';
import { formatJob, formatRun } from '../tools/format.js';
import { VERSION } from '../version.js';
import type { AgentBinding } from './binding.js';

export const PROGRESS_EVERY_MS = 5000;
export const DEFAULT_MCP_TIMEOUT_MS = 120_000;
export const MAX_MCP_TIMEOUT_MS = 600_000;

interface Extra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message?: string };
  }) => Promise<void>;
}

interface JobRef {
  session: Session;
  jobId: string;
  read: { stdout: number; stderr: number };
}

const sessionName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,40}$/)
  .optional()
  .describe('Which persistent shell to use (default "default"); different names are independent shells');

export function createMcpServer(binding: AgentBinding, opts: { sessionPrefix: string }): McpServer {
  const server = new McpServer({ name: 'agentctl', version: VERSION });
  const jobs = new Map<string, JobRef>();
  const agentField: Record<string, z.ZodTypeAny> = binding.several
    ? { agent: z.string().describe('The agent to act in (one of those this server serves)') }
    : {};
  const session = (agent: string | undefined, name: string | undefined) =>
    binding.session(agent, `${opts.sessionPrefix}${name ?? 'default'}`);

  server.registerTool(
    'bash',
    {
      description:
        "Run a shell command in the agent's persistent shell (bash, or sh where the image has no bash): " +
        'the working directory, variables and functions persist between calls. stdin is empty. ' +
        'Returns stdout, stderr (apart), the exact exit code and the working directory. ' +
        `Commands are killed after timeout_ms (default ${DEFAULT_MCP_TIMEOUT_MS / 1000} s). ` +
        'background: true starts a job and returns at once (read it with bash_output, stop it with bash_kill). ' +
        'restart: true gives a fresh shell.',
      inputSchema: {
        command: z.string().optional().describe('The command to run'),
        restart: z.boolean().optional().describe('Kill the running command and start a fresh shell'),
        timeout_ms: z.number().int().min(1).max(MAX_MCP_TIMEOUT_MS).optional().describe('Time limit in ms'),
        background: z.boolean().optional().describe('Run as a background job and return at once'),
        session: sessionName,
        ...agentField,
      },
      outputSchema: {
        exitCode: z.number(),
        stdout: z.string(),
        stderr: z.string(),
        cwd: z.string(),
        timedOut: z.boolean(),
        truncated: z.boolean(),
        restarted: z.boolean(),
        jobId: z.string().optional(),
      },
    },
    async (args: Record<string, unknown>, extra: unknown) =>
      guard(async () => {
        const a = args as {
          command?: string;
          restart?: boolean;
          timeout_ms?: number;
          background?: boolean;
          session?: string;
          agent?: string;
        };
        const s = await session(a.agent, a.session);
        if (a.restart) {
          await s.restart();
          if (a.command === undefined)
            return text('The shell was restarted (a fresh shell, no state kept).', {
              exitCode: 0,
              stdout: '',
              stderr: '',
              cwd: '',
              timedOut: false,
              truncated: false,
              restarted: true,
            });
        }
        if (a.command === undefined || a.command.trim() === '')
          return failure('Give "command" (the command to run), or "restart": true.');
        const timeoutMs = a.timeout_ms ?? DEFAULT_MCP_TIMEOUT_MS;
        const stopProgress = progress(extra as unknown as Extra, a.command);
        try {
          const r = await s.run(a.command, {
            timeoutMs,
            background: a.background,
            signal: (extra as unknown as Extra).signal,
          });
          let jobId = r.jobId;
          if (jobId !== undefined) {
            const key = binding.several ? `${a.agent}/${jobId}` : jobId;
            jobs.set(key, { session: s, jobId, read: { stdout: 0, stderr: 0 } });
            jobId = key;
          }
          const shown = jobId !== undefined ? { ...r, jobId } : r;
          return text(formatRun(shown, timeoutMs), {
            exitCode: r.exitCode,
            stdout: r.stdout,
            stderr: r.stderr,
            cwd: r.cwd,
            timedOut: r.timedOut,
            truncated: r.truncated,
            restarted: r.restarted,
            ...(jobId !== undefined ? { jobId } : {}),
          });
        } finally {
          stopProgress();
        }
      }),
  );

  const job = (id: string): JobRef => {
    const ref = jobs.get(id);
    if (!ref) throw new Error(`no job "${id}"; the jobs are: ${[...jobs.keys()].join(', ') || 'none'}`);
    return ref;
  };

  server.registerTool(
    'bash_output',
    {
      description:
        "A background job's new output since the last bash_output call (stdout and stderr apart) and whether it is still running or its exit code.",
      inputSchema: { job_id: z.string().describe('The id bash returned for the job') },
    },
    async (args) =>
      guard(async () => {
        const ref = job(args.job_id);
        const o = await ref.session.jobOutput(ref.jobId, { since: ref.read });
        ref.read = {
          stdout: ref.read.stdout + Buffer.byteLength(o.stdout),
          stderr: ref.read.stderr + Buffer.byteLength(o.stderr),
        };
        return text(formatJob({ ...o, jobId: args.job_id }));
      }),
  );

  server.registerTool(
    'bash_kill',
    {
      description: 'Stop a background job, and every process it started.',
      inputSchema: { job_id: z.string().describe('The id bash returned for the job') },
    },
    async (args) =>
      guard(async () => {
        const ref = job(args.job_id);
        await ref.session.kill(ref.jobId);
        return text(`Job ${args.job_id} was killed.`);
      }),
  );

  server.registerTool(
    'str_replace_based_edit_tool',
    {
      description:
        'View, create and edit files in the agent (as its user). view: a file with line numbers ' +
        '(view_range [start, end], end -1 = to the end) or a directory 2 levels deep. create: write file_text. ' +
        'str_replace: replace old_str, which must occur exactly once, with new_str. ' +
        'insert: insert insert_text after line insert_line (0 = at the start). Paths are absolute.',
      inputSchema: {
        command: z.enum(['view', 'create', 'str_replace', 'insert']),
        path: z.string().describe('Absolute path in the agent'),
        view_range: z.array(z.number().int()).length(2).optional(),
        file_text: z.string().optional(),
        old_str: z.string().optional(),
        new_str: z.string().optional(),
        insert_line: z.number().int().optional(),
        insert_text: z.string().optional(),
        max_characters: z.number().int().min(1).optional(),
        ...agentField,
      },
    },
    async (args: Record<string, unknown>) =>
      guard(async () => {
        const a = args as Record<string, unknown> & { agent?: string };
        const editor = await binding.editor(a.agent);
        const r = await editor.handle(a as never);
        return r.isError ? failure(r.text) : text(r.text);
      }),
  );

  return server;
}

function text(t: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: t }], ...(structured ? { structuredContent: structured } : {}) };
}

function failure(t: string): CallToolResult {
  return { content: [{ type: 'text', text: t }], isError: true };
}

async function guard(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (err) {
    return failure(`Error: ${toAgentctlError(err).message}`);
  }
}

/** Progress notifications while a command runs, if the client asked for them. Returns the stopper. */
function progress(extra: Extra, command: string): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => undefined;
  const t0 = Date.now();
  const timer = setInterval(() => {
    const s = Math.round((Date.now() - t0) / 1000);
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: s, message: `${command.slice(0, 60)}: running for ${s} s` },
      })
      .catch(() => undefined);
  }, PROGRESS_EVERY_MS);
  return () => clearInterval(timer);
}
