/**
 * `claudeTools(mgr, agentId)`: Anthropic's own tool types, served by an agent. `tools` goes into a
 * Messages API request as it is; `handle` turns a `tool_use` block into the `tool_result` block to send
 * back. `bash` runs in the agent's persistent session (src/session), `str_replace_based_edit_tool`
 * edits files inside the agent as its user (editor.ts). Failures of the tool itself come back as
 * `is_error` results with text the model can act on; a command's non-zero exit code is a result.
 */
import { toAgentctlError } from '../errors.js';
import type { AgentManager } from '../ops/agent-manager.js';
import type { Session } from '../session/session.js';
import type { EditorInput } from './editor.js';
import { formatRun } from './format.js';

export interface ClaudeToolsOptions {
  /** The session the bash tool uses (default `default`). */
  session?: string;
  /** Each command's time limit (default 120 s); it is then killed and the result says so. */
  timeoutMs?: number;
  /** Bytes of each of stdout and stderr a result keeps, head and tail (default 30000). */
  maxOutputBytes?: number;
  /** The editor's `max_characters` (characters a view shows at most); sent in the tool definition. */
  maxCharacters?: number;
}

export interface ToolUseBlock {
  type?: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export type ClaudeToolDefinition =
  | { type: 'bash_20250124'; name: 'bash' }
  | { type: 'text_editor_20250728'; name: 'str_replace_based_edit_tool'; max_characters?: number };

export interface ClaudeTools {
  tools: ClaudeToolDefinition[];
  handle(block: ToolUseBlock, opts?: { signal?: AbortSignal }): Promise<ToolResultBlock>;
  /** Closes the bash tool's session. */
  close(): Promise<void>;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 120_000;
export const DEFAULT_TOOL_OUTPUT_BYTES = 30_000;

export function claudeTools(mgr: AgentManager, agentId: string, opts: ClaudeToolsOptions = {}): ClaudeTools {
  const editor = mgr.editor(agentId, { maxCharacters: opts.maxCharacters });
  let session: Session | undefined;
  const open = async () =>
    (session ??= await mgr.openSession(agentId, {
      name: opts.session ?? 'default',
      maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_TOOL_OUTPUT_BYTES,
    }));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;

  const bash = async (input: { command?: unknown; restart?: unknown }, signal?: AbortSignal) => {
    if (input.restart === true) {
      await (await open()).restart();
      return { text: 'tool has been restarted.', isError: false };
    }
    if (typeof input.command !== 'string' || input.command.trim() === '')
      return { text: 'Give `command` (the bash command to run), or `restart: true`.', isError: true };
    const r = await (await open()).run(input.command, { timeoutMs, signal });
    return { text: formatRun(r, timeoutMs), isError: false };
  };

  return {
    tools: [
      { type: 'bash_20250124', name: 'bash' },
      {
        type: 'text_editor_20250728',
        name: 'str_replace_based_edit_tool',
        ...(opts.maxCharacters !== undefined ? { max_characters: opts.maxCharacters } : {}),
      },
    ],
    async handle(block, handleOpts = {}) {
      let out: { text: string; isError: boolean };
      try {
        const input = (block.input ?? {}) as Record<string, unknown>;
        if (block.name === 'bash') out = await bash(input, handleOpts.signal);
        else if (block.name === 'str_replace_based_edit_tool')
          out = await editor.handle(input as unknown as EditorInput);
        else
          out = {
            text: `Unknown tool "${block.name}": this agent serves bash and str_replace_based_edit_tool.`,
            isError: true,
          };
      } catch (err) {
        out = { text: `Error: ${toAgentctlError(err).message}`, isError: true };
      }
      return {
        type: 'tool_result',
        tool_use_id: block.id,
        content: out.text,
        ...(out.isError ? { is_error: true } : {}),
      };
    },
    async close() {
      await session?.close();
      session = undefined;
    },
  };
}
