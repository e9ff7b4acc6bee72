/**
 * `agentctl mcp` end to end: the built CLI, driven by the MCP SDK's own Client over stdio and over
 * Streamable HTTP, against real agents on the busybox image. What happened inside the agents is
 * checked with the docker CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { agentctl, CLI } from '../helpers/cli.js';
import { docker, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';

interface ToolResult {
  content: { type: string; text: string }[];
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

const textOf = (r: ToolResult) => r.content.map((c) => c.text).join('');

function processes(container: string): string[] {
  return docker('exec', container, 'ps', '-o', 'args').split('\n').slice(1);
}

describe('agentctl mcp (built CLI, SDK client, real engine)', () => {
  const project = `i10m-${randomBytes(3).toString('hex')}`;
  const prefix = `${project}-`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: prefix });
  const token = randomBytes(24).toString('hex');
  const tokenFile = path.join(runtimeDir, 'token');

  beforeAll(async () => {
    for (const id of ['w', 'v', 'x'])
      await mgr.createAgent({ id, image: TEST_IMAGE, memory: '64m', cpus: 0.5, network: 'none' });
    writeFileSync(tokenFile, `${token}\n`);
  });
  afterAll(() => {
    removeProjectContainers(project);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  async function stdioClient(args: string[]): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--project', project, ...args],
      env: { ...(process.env as Record<string, string>) },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'agentctl-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  describe('over stdio, one agent', () => {
    let client: Client;
    beforeAll(async () => {
      client = await stdioClient(['--agent', 'w']);
    });
    afterAll(async () => {
      await client.close();
    });

    it('lists the four tools', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'bash',
        'bash_kill',
        'bash_output',
        'str_replace_based_edit_tool',
      ]);
      const bash = tools.find((t) => t.name === 'bash')!;
      expect(Object.keys(bash.inputSchema.properties ?? {}).sort()).toEqual([
        'background',
        'command',
        'restart',
        'session',
        'timeout_ms',
      ]);
    });

    it('bash keeps its shell between calls; a non-zero exit code is a result, not an error', async () => {
      await client.callTool({ name: 'bash', arguments: { command: 'cd /tmp/agent && export A=1' } });
      const r = (await client.callTool({
        name: 'bash',
        arguments: { command: 'echo $A; pwd; echo bad >&2; exit 3' },
      })) as ToolResult;
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({
        exitCode: 3,
        stdout: '1\n/tmp/agent\n',
        stderr: 'bad\n',
        cwd: '/tmp/agent',
      });
      expect(textOf(r)).toContain('[exit code 3; cwd /tmp/agent');
      const other = (await client.callTool({
        name: 'bash',
        arguments: { command: 'pwd', session: 'two' },
      })) as ToolResult;
      expect(other.structuredContent).toMatchObject({ stdout: '/mnt\n' });
      const bad = (await client.callTool({ name: 'bash', arguments: {} })) as ToolResult;
      expect(bad.isError).toBe(true);
    });

    it('timeout_ms kills the command inside the agent and says so', async () => {
      const r = (await client.callTool({
        name: 'bash',
        arguments: { command: 'sleep 311', timeout_ms: 500 },
      })) as ToolResult;
      expect(r.structuredContent).toMatchObject({ exitCode: 124, timedOut: true });
      expect(textOf(r)).toMatch(/timed out after 0.5 s/);
      expect(processes(`${prefix}w`).filter((p) => p.includes('sleep 311'))).toEqual([]);
    });

    it('sends progress notifications while a long command runs', async () => {
      const seen: number[] = [];
      const r = (await client.callTool(
        { name: 'bash', arguments: { command: 'sleep 11; echo done' } },
        undefined,
        {
          onprogress: (p) => seen.push(p.progress),
          timeout: 60_000,
        },
      )) as ToolResult;
      expect(r.structuredContent).toMatchObject({ stdout: 'done\n' });
      expect(seen.length).toBeGreaterThanOrEqual(2);
    });

    it('a cancelled request kills its command', async () => {
      const ac = new AbortController();
      const call = client.callTool({ name: 'bash', arguments: { command: 'sleep 312' } }, undefined, {
        signal: ac.signal,
      });
      await new Promise((res) => setTimeout(res, 700));
      ac.abort();
      await expect(call).rejects.toThrow();
      const container = `${prefix}w`;
      for (let i = 0; i < 200 && processes(container).some((p) => p.includes('sleep 312')); i++)
        await new Promise((res) => setTimeout(res, 100));
      expect(processes(container).filter((p) => p.includes('sleep 312'))).toEqual([]);
      // The session goes on.
      const r = (await client.callTool({ name: 'bash', arguments: { command: 'echo alive' } })) as ToolResult;
      expect(r.structuredContent).toMatchObject({ stdout: 'alive\n' });
    });

    it('background jobs: bash_output reads what is new, bash_kill stops them', async () => {
      const started = (await client.callTool({
        name: 'bash',
        arguments: { command: 'echo first; sleep 0.5; echo second; sleep 313', background: true },
      })) as ToolResult;
      const jobId = started.structuredContent!.jobId as string;
      expect(jobId).toBeTruthy();
      let out = '';
      for (let i = 0; i < 200 && !out.includes('second'); i++) {
        const r = (await client.callTool({
          name: 'bash_output',
          arguments: { job_id: jobId },
        })) as ToolResult;
        out += textOf(r).replace(/\[job [^\]]*\]$/, '');
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(out).toBe('first\nsecond\n');
      const killed = (await client.callTool({
        name: 'bash_kill',
        arguments: { job_id: jobId },
      })) as ToolResult;
      expect(killed.isError).toBeFalsy();
      expect(processes(`${prefix}w`).filter((p) => p.includes('sleep 313'))).toEqual([]);
      const after = (await client.callTool({
        name: 'bash_output',
        arguments: { job_id: jobId },
      })) as ToolResult;
      expect(textOf(after)).toContain('killed');
      const none = (await client.callTool({
        name: 'bash_output',
        arguments: { job_id: 'nope' },
      })) as ToolResult;
      expect(none.isError).toBe(true);
    });

    it('the editor works inside the agent', async () => {
      await client.callTool({
        name: 'str_replace_based_edit_tool',
        arguments: { command: 'create', path: '/mnt/m.txt', file_text: 'a\nb\n' },
      });
      await client.callTool({
        name: 'str_replace_based_edit_tool',
        arguments: { command: 'str_replace', path: '/mnt/m.txt', old_str: 'b', new_str: 'B' },
      });
      expect(docker('exec', `${prefix}w`, 'cat', '/mnt/m.txt')).toBe('a\nB');
      const v = (await client.callTool({
        name: 'str_replace_based_edit_tool',
        arguments: { command: 'view', path: '/mnt/m.txt' },
      })) as ToolResult;
      expect(textOf(v)).toContain('     2\tB');
      const missing = (await client.callTool({
        name: 'str_replace_based_edit_tool',
        arguments: { command: 'view', path: '/mnt/none' },
      })) as ToolResult;
      expect(missing.isError).toBe(true);
    });
  });

  it('serves only the agents the operator bound', async () => {
    const client = await stdioClient(['--agent', 'w', '--agent', 'v']);
    try {
      const ok = (await client.callTool({
        name: 'bash',
        arguments: { agent: 'v', command: 'echo $AGENT_ID' },
      })) as ToolResult;
      expect(ok.structuredContent).toMatchObject({ stdout: 'v\n' });
      const x = (await client.callTool({
        name: 'bash',
        arguments: { agent: 'x', command: 'echo no' },
      })) as ToolResult;
      expect(x.isError).toBe(true);
      expect(textOf(x)).toMatch(/not served here/);
      const none = (await client.callTool({ name: 'bash', arguments: { command: 'echo no' } })) as ToolResult;
      expect(none.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  describe('over Streamable HTTP', () => {
    let server: ChildProcess;
    let url = '';
    beforeAll(async () => {
      server = spawn(
        process.execPath,
        [
          CLI,
          'mcp',
          '--project',
          project,
          '--agent',
          'w',
          '--http',
          '127.0.0.1:0',
          '--token-file',
          tokenFile,
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      url = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr!.on('data', (c: Buffer) => {
          err += c.toString();
          const m = /serving (http:\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        server.once('exit', () => reject(new Error(`mcp --http exited: ${err}`)));
      });
    });
    afterAll(() => {
      server.kill('SIGTERM');
    });

    const raw = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(url);
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            path: '/mcp',
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: '2025-06-18',
              capabilities: {},
              clientInfo: { name: 'raw', version: '1' },
            },
          }),
        );
      });

    it('serves the SDK client that sends the bearer token', async () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = new Client({ name: 'agentctl-test-http', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      try {
        await client.callTool({ name: 'bash', arguments: { command: 'cd /tmp && export H=1' } });
        const r = (await client.callTool({
          name: 'bash',
          arguments: { command: 'echo $H; pwd' },
        })) as ToolResult;
        expect(r.structuredContent).toMatchObject({ exitCode: 0, stdout: '1\n/tmp\n' });
      } finally {
        await client.close();
      }
    });

    it('refuses a missing or wrong token, and foreign Host or Origin headers (DNS rebinding)', async () => {
      const port = new URL(url).port;
      expect(await raw({})).toBe(401);
      expect(await raw({ authorization: `Bearer ${token}x` })).toBe(401);
      expect(await raw({ authorization: `Bearer ${token}`, host: `evil.example:${port}` })).toBe(403);
      expect(await raw({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })).toBe(403);
      expect(await raw({ authorization: `Bearer ${token}`, host: `localhost:${port}` })).toBe(200);
    });
  });

  it('--http refuses to start without a token, or on a non-loopback address unless told', () => {
    const noToken = agentctl(['mcp', '--project', project, '--agent', 'w', '--http', '127.0.0.1:0'], {
      env: { AGENTCTL_MCP_TOKEN: undefined },
    });
    expect(noToken.status).not.toBe(0);
    expect(noToken.stderr).toMatch(/needs a bearer token/);
    const remote = agentctl([
      'mcp',
      '--project',
      project,
      '--agent',
      'w',
      '--http',
      '0.0.0.0:0',
      '--token-file',
      tokenFile,
    ]);
    expect(remote.status).not.toBe(0);
    expect(remote.stderr).toMatch(/not a loopback address.*--allow-remote/);
    const nobody = agentctl(['mcp']);
    expect(nobody.stderr).toMatch(/name the agents/);
  });
});
