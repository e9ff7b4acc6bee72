#!/usr/bin/env node
// npm run bench (or node scripts/bench-session.mjs after npm run build): persistent sessions and the MCP
// server, against floors measured in the same run, on busybox agents.
//
//   session.run('echo hi'), 200 runs         vs  a raw Engine-API exec (create + start + inspect over the
//                                                socket with node:http): the floor every fresh exec pays
//   MCP tools/call bash echo hi over stdio   vs  session.run('echo hi') in this process (the MCP server
//     (the SDK's Client, the built CLI)          adds JSON-RPC over a pipe to the same session code)
//   100 open sessions on 100 agents          the memory of this process (RSS and heap) before and after
//
// Runs of the two sides alternate, so load from anything else on the machine hits both alike.
// BENCH_SESSION_AGENTS sets the number of agents of the memory run (default 100). Cleans up after itself.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, pool, ROOT } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const RUNS = 200;
const MCP_RUNS = 100;
const WARMUP = 10;
const AGENTS = Number(process.env.BENCH_SESSION_AGENTS ?? 100);

const { AgentManager } = await import(path.join(ROOT, 'dist', 'index.js'));
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');

const { api, raw, close: closeEngine } = engineClient();

async function rawExec(containerId) {
  const { Id } = await api('POST', `/containers/${containerId}/exec`, {
    Cmd: ['sh', '-c', 'echo hi'],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await raw('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
  const { ExitCode } = await api('GET', `/exec/${Id}/json`);
  if (ExitCode !== 0 || !stream.includes('hi')) throw new Error(`raw exec failed: ${ExitCode} ${stream}`);
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const ms = (x) => `${x.toFixed(2)} ms`;
const mib = (b) => `${(b / 1024 ** 2).toFixed(1)} MiB`;

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main() {
  const image = buildTestImage();
  const project = `bench-session-${randomBytes(3).toString('hex')}`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-session-'));
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: `${project}-` });
  const spec = { image, memory: '16m', cpus: 0.25, network: 'none' };
  const rows = [];
  let client;
  try {
    const agent = await mgr.createAgent({ id: 'bench', ...spec });
    const s = await mgr.openSession('bench');
    const echo = async () => {
      const r = await s.run('echo hi');
      if (r.exitCode !== 0 || r.stdout !== 'hi\n') throw new Error(`session failed: ${JSON.stringify(r)}`);
    };
    for (let i = 0; i < WARMUP; i++) {
      await rawExec(agent.id);
      await echo();
    }
    const sess = [];
    const floor = [];
    for (let i = 0; i < RUNS; i++) {
      for (const side of i % 2 === 0 ? ['s', 'r'] : ['r', 's']) {
        if (side === 's') sess.push(await timed(echo));
        else floor.push(await timed(() => rawExec(agent.id)));
      }
    }
    rows.push([
      `session.run('echo hi'), median of ${RUNS}`,
      ms(median(sess)),
      `${ms(median(floor))} (raw exec)`,
      `${(median(sess) / median(floor)).toFixed(3)}x`,
      '<= 0.25x',
    ]);
    rows.push([`session.run('echo hi'), p95 of ${RUNS}`, ms(p95(sess)), ms(p95(floor)), '-', '-']);

    // MCP over stdio: the built CLI, driven by the SDK's own client.
    client = new Client({ name: 'bench', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'mcp', '--project', project, '--agent', 'bench'],
        env: process.env,
      }),
    );
    const mcpEcho = async () => {
      const r = await client.callTool({ name: 'bash', arguments: { command: 'echo hi' } });
      if (r.structuredContent?.stdout !== 'hi\n') throw new Error(`mcp failed: ${JSON.stringify(r)}`);
    };
    for (let i = 0; i < WARMUP; i++) await mcpEcho();
    const mcp = [];
    const sess2 = [];
    for (let i = 0; i < MCP_RUNS; i++) {
      for (const side of i % 2 === 0 ? ['m', 's'] : ['s', 'm']) {
        if (side === 'm') mcp.push(await timed(mcpEcho));
        else sess2.push(await timed(echo));
      }
    }
    rows.push([
      `MCP tools/call bash echo hi (stdio), median of ${MCP_RUNS}`,
      ms(median(mcp)),
      `${ms(median(sess2))} (session)`,
      `+${(median(mcp) - median(sess2)).toFixed(2)} ms`,
      '<= +3 ms',
    ]);
    await client.close();
    client = undefined;
    await mgr.close();

    // Memory: one open session on each of AGENTS agents.
    const ids = Array.from({ length: AGENTS }, (_, i) => `m${i}`);
    // One at a time: createAgent takes the project's lock, so parallel calls would only queue on it.
    for (const id of ids) await mgr.createAgent({ id, ...spec });
    global.gc?.();
    const before = process.memoryUsage();
    const sessions = [];
    await pool(ids, 8, async (id) => sessions.push(await mgr.openSession(id)));
    await Promise.all(sessions.map((x) => x.run('true')));
    global.gc?.();
    const after = process.memoryUsage();
    rows.push([
      `${AGENTS} open sessions on ${AGENTS} agents: RSS`,
      mib(after.rss),
      `${mib(before.rss)} (before)`,
      `${((after.rss - before.rss) / 1024 / AGENTS).toFixed(0)} KiB/session`,
      'reported',
    ]);
    rows.push([
      `  heap used`,
      mib(after.heapUsed),
      `${mib(before.heapUsed)} (before)`,
      `${((after.heapUsed - before.heapUsed) / 1024 / AGENTS).toFixed(0)} KiB/session`,
      '-',
    ]);
    await mgr.close();
    for (const id of ids) await mgr.removeAgent(id, { removeData: true, timeoutSeconds: 0 });
  } finally {
    await client?.close().catch(() => undefined);
    await mgr.close().catch(() => undefined);
    await mgr.removeAgent('bench', { removeData: true, timeoutSeconds: 0 }).catch(() => undefined);
    rmSync(runtimeDir, { recursive: true, force: true });
    closeEngine();
  }
  const head = ['benchmark', 'agentctl', 'floor', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`sessions and MCP; image ${image}; ${os.cpus().length} CPUs`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

await main();
