/**
 * `agentctl mcp`: serve agents to MCP clients (Claude Code, the Claude Agent SDK, any MCP client):
 * over stdio, or Streamable HTTP with a bearer token. The operator binds the agents; the server is
 * loaded on demand (src/mcp, its own bundle chunk), so no other command pays for the SDK.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { AgentctlError } from '../../errors.js';
import { portOf } from '../../ops/context.js';
import { DEFAULT_TOOL_OUTPUT_BYTES } from '../../tools/claude.js';
import { nonNegativeInt } from '../io.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

interface Flags extends TargetFlags {
  agent?: string[];
  http?: string;
  tokenFile?: string;
  allowHost?: string[];
  allowRemote?: boolean;
  maxOutputBytes?: number;
}

export const MIN_TOKEN_LENGTH = 16;

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve agents to MCP clients: bash, bash_output, bash_kill, str_replace_based_edit_tool')
    .option(
      '--agent <id>',
      'serve this agent (repeatable); without it, every agent of --project / --file',
      collect,
    )
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(engineOption())
    .option(
      '--http <[host:]port>',
      'serve Streamable HTTP at http://host:port/mcp (default host 127.0.0.1) instead of stdio',
    )
    .option('--token-file <path>', 'HTTP: the bearer token clients must send (else AGENTCTL_MCP_TOKEN)')
    .option(
      '--allow-host <name>',
      'HTTP: also accept this Host header name (repeatable; e.g. behind a proxy)',
      collect,
    )
    .addOption(new Option('--allow-remote', 'HTTP: allow listening on a non-loopback address'))
    .option(
      '--max-output-bytes <n>',
      `bytes of each of stdout and stderr a result keeps, head and tail (default ${DEFAULT_TOOL_OUTPUT_BYTES})`,
      nonNegativeInt('--max-output-bytes'),
    )
    .action(async (flags: Flags) => {
      const { project, desired, engine } = await resolveTarget(flags);
      const agents = flags.agent ?? [];
      if (agents.length === 0 && project === undefined)
        throw new AgentctlError(
          'usage',
          'mcp: name the agents to serve: --agent ID (repeatable), --project NAME or --file FILE',
        );
      const http = flags.http === undefined ? undefined : httpConfig(flags);
      const { serveMcp } = await import('../../mcp/serve.js');
      await serveMcp({
        port: portOf({}),
        agents,
        project,
        desired,
        engine,
        maxOutputBytes: flags.maxOutputBytes ?? DEFAULT_TOOL_OUTPUT_BYTES,
        http,
        onListening: (url) => process.stderr.write(`agentctl mcp: serving ${url}\n`),
      });
    });
}

function httpConfig(flags: Flags): { host: string; port: number; token: string; allowHosts: string[] } {
  const spec = flags.http!;
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(spec);
  if (!m) throw new AgentctlError('usage', `--http takes [host:]port, e.g. 127.0.0.1:8765, got "${spec}"`);
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port > 65535) throw new AgentctlError('usage', `--http: port ${port} is out of range`);
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (!loopback && !flags.allowRemote)
    throw new AgentctlError(
      'unsafe',
      `--http ${spec}: ${host} is not a loopback address; anyone who can reach it could run commands in the agents. ` +
        'Add --allow-remote to serve it anyway (the bearer token is still required).',
    );
  let token: string | undefined;
  if (flags.tokenFile !== undefined) {
    try {
      token = readFileSync(flags.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new AgentctlError(
        'usage',
        `--token-file ${flags.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  } else token = process.env.AGENTCTL_MCP_TOKEN?.trim();
  if (!token)
    throw new AgentctlError(
      'usage',
      'mcp --http needs a bearer token: --token-file FILE or AGENTCTL_MCP_TOKEN (e.g. openssl rand -hex 32)',
    );
  if (token.length < MIN_TOKEN_LENGTH)
    throw new AgentctlError(
      'usage',
      `mcp --http: the token is too short (${token.length} characters; at least ${MIN_TOKEN_LENGTH})`,
    );
  return { host, port, token, allowHosts: flags.allowHost ?? [] };
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}
