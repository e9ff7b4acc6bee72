#!/usr/bin/env node
// npm run bench (or node scripts/bench-exec.mjs after npm run build): the exec hot path, on one busybox
// agent, against floors measured in the same run.
//
//   executeCommand('echo hi'), 200 runs   vs  a raw Engine-API exec loop: create + start + inspect over
//                                             the socket with node:http (same command, same shell)
//   agentctl exec AGENT -- echo hi, 20    vs  docker exec CONTAINER echo hi; for context, `node -e 0`
//                                             (Node's own startup) and a bare Node script making the
//                                             same four calls (look up the agent, create, start, inspect)
//
// Runs of the two sides alternate, so load from anything else on the machine hits both alike. Prints a
// table; targets are in the last column. Cleans up everything it creates.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, ROOT, SOCKET } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const LIB_RUNS = 200;
const CLI_RUNS = 20;
const WARMUP = 10;

const { AgentManager } = await import(path.join(ROOT, 'dist', 'index.js'));

/** The floor: one exec with nothing but node:http, as a hand-written client would do it. */
const { agent: rawAgent, raw: rawCall } = engineClient();

async function rawExec(containerId, cmd) {
  const { Id } = JSON.parse(
    await rawCall('POST', `/containers/${containerId}/exec`, {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
    }),
  );
  const stream = await rawCall('POST', `/exec/${Id}/start`, { Detach: false, Tty: false });
  const { ExitCode } = JSON.parse(await rawCall('GET', `/exec/${Id}/json`));
  if (ExitCode !== 0 || !stream.includes('hi')) throw new Error(`raw exec failed: ${ExitCode} ${stream}`);
}

/** The floor for any Node CLI: the four calls `agentctl exec` makes, with nothing else loaded. */
function bareNodeCli(dir, project) {
  const file = path.join(dir, 'bare-exec.mjs');
  const filters = encodeURIComponent(
    JSON.stringify({ label: [`agentctl.project=${project}`, 'agentctl.agent=bench'] }),
  );
  writeFileSync(
    file,
    `import http from 'node:http';
const agent = new http.Agent({ keepAlive: true });
const call = (method, p, body) => new Promise((resolve, reject) => {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const req = http.request({ socketPath: ${JSON.stringify(SOCKET)}, agent, method, path: p,
    headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
    const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve(Buffer.concat(chunks)));
  });
  req.on('error', reject); req.end(payload);
});
const [c] = JSON.parse(await call('GET', '/containers/json?all=1&filters=${filters}'));
const { Id } = JSON.parse(await call('POST', '/containers/' + c.Id + '/exec', { Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true }));
process.stdout.write((await call('POST', '/exec/' + Id + '/start', { Detach: false, Tty: false })).subarray(8));
process.exitCode = JSON.parse(await call('GET', '/exec/' + Id + '/json')).ExitCode;
`,
  );
  return file;
}

function timeProcess(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
const p95 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const ms = (x) => `${x.toFixed(1)} ms`;

async function main() {
  const image = buildTestImage();
  const project = `bench-exec-${randomBytes(3).toString('hex')}`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-exec-'));
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: `${project}-` });
  const rows = [];
  try {
    const agent = await mgr.createAgent({ id: 'bench', image, memory: '64m', cpus: 0.5, network: 'none' });
    // executeCommand runs `bash -c`, falling back to `sh -c` on this bash-less image: the floor runs the same.
    const cmd = ['sh', '-c', 'echo hi'];
    for (let i = 0; i < WARMUP; i++) {
      await rawExec(agent.id, cmd);
      await mgr.executeCommand('bench', 'echo hi');
    }
    const lib = [];
    const raw = [];
    for (let i = 0; i < LIB_RUNS; i++) {
      // Alternate which side goes first, so neither always follows the other's connection churn.
      for (const side of i % 2 === 0 ? ['lib', 'raw'] : ['raw', 'lib']) {
        const t0 = performance.now();
        if (side === 'raw') {
          await rawExec(agent.id, cmd);
          raw.push(performance.now() - t0);
          continue;
        }
        const r = await mgr.executeCommand('bench', 'echo hi');
        lib.push(performance.now() - t0);
        if (r.exitCode !== 0 || r.stdout !== 'hi\n')
          throw new Error(`executeCommand failed: ${JSON.stringify(r)}`);
      }
    }
    rows.push([
      `executeCommand('echo hi'), median of ${LIB_RUNS}`,
      ms(median(lib)),
      ms(median(raw)),
      `${(median(lib) / median(raw)).toFixed(2)}x`,
      '<= 1.10x',
    ]);
    rows.push([
      `executeCommand('echo hi'), p95 of ${LIB_RUNS}`,
      ms(p95(lib)),
      ms(p95(raw)),
      `${(p95(lib) / p95(raw)).toFixed(2)}x`,
      '-',
    ]);

    const cli = [];
    const docker = [];
    const node = [];
    const bare = [];
    const bareScript = bareNodeCli(runtimeDir, project);
    timeProcess(process.execPath, [CLI, 'exec', '--project', project, 'bench', '--', 'echo', 'hi']);
    for (let i = 0; i < CLI_RUNS; i++) {
      cli.push(
        timeProcess(process.execPath, [CLI, 'exec', '--project', project, 'bench', '--', 'echo', 'hi']),
      );
      docker.push(timeProcess('docker', ['exec', agent.name, 'echo', 'hi']));
      node.push(timeProcess(process.execPath, ['-e', '0']));
      bare.push(timeProcess(process.execPath, [bareScript]));
    }
    rows.push([
      `agentctl exec -- echo hi, median of ${CLI_RUNS}`,
      ms(median(cli)),
      ms(median(docker)),
      `${(median(cli) / median(docker)).toFixed(2)}x`,
      '<= 1.00x (docker exec)',
    ]);
    rows.push([`  context: node -e 0 (Node's own startup)`, ms(median(node)), '-', '-', '-']);
    rows.push([
      `  context: bare Node script, same 4 calls`,
      ms(median(bare)),
      '-',
      `agentctl ${(median(cli) / median(bare)).toFixed(2)}x`,
      '-',
    ]);
  } finally {
    await mgr.removeAgent('bench', { removeData: true, timeoutSeconds: 0 }).catch(() => undefined);
    rmSync(runtimeDir, { recursive: true, force: true });
    rawAgent.destroy();
  }
  const head = ['benchmark', 'agentctl', 'floor', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`exec hot path; image ${image}; ${os.cpus().length} CPUs`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

await main();
