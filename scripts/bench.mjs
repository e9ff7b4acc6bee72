#!/usr/bin/env node
// npm run bench: agentctl against a raw-API floor measured in the same run, on the busybox test image.
//
//   cold apply of 20 and 100 agents   vs  plain create+start calls over the socket with the same bodies
//                                         agentctl sends (same containers, same parallelism)
//   no-op apply of 100 agents         absolute: the whole CLI process, startup included
//   in-place memory update of 100     vs  plain update calls over the socket (same parallelism)
//
// Every agentctl number is the wall time of a real `agentctl apply` process. Prints a table; targets are
// in the last column. Cleans up everything it creates.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, median, pool, ROOT, writeFleet } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const { api, close } = engineClient();
const { loadConfig } = await import(path.join(ROOT, 'dist', 'config', 'load.js'));
const { createBody } = await import(path.join(ROOT, 'dist', 'docker', 'container-config.js'));

const PARALLEL = 4;

/**
 * The floor: creating and starting the same N containers (the very create bodies agentctl sends, from the
 * same file) with plain parallel calls: no config, no observe, no plan, no reconciler.
 */
async function rawCreateStart(n, image) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-floor-'));
  const project = `bench-floor-${randomBytes(4).toString('hex')}`;
  fleetFile(dir, project, n, image, '64m');
  const desired = await loadConfig(path.join(dir, 'agents.yaml'));
  for (const a of desired.agents) mkdirSync(a.workDir, { recursive: true });
  const t0 = performance.now();
  const ids = [];
  await pool(desired.agents, PARALLEL, async (spec) => {
    const { Id } = await api('POST', `/containers/create?name=${spec.name}`, createBody(project, spec));
    await api('POST', `/containers/${Id}/start`);
    ids.push(Id);
  });
  const ms = performance.now() - t0;
  return { ms, ids, dir };
}

async function rawUpdate(ids, memory) {
  const t0 = performance.now();
  await pool(ids, PARALLEL, (id) =>
    api('POST', `/containers/${id}/update`, { Memory: memory, MemorySwap: memory }),
  );
  return performance.now() - t0;
}

async function removeAll(ids) {
  await pool(ids, 8, (id) => api('DELETE', `/containers/${id}?force=1`));
}

/** n replicas with the given memory. */
const fleetFile = (dir, project, n, image, memory) =>
  writeFleet(dir, project, image, [`a: { replicas: ${n}, memory: ${memory} }`]);

function cli(args, cwd) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`agentctl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const s = (ms) => `${(ms / 1000).toFixed(3)} s`;

async function main() {
  const image = buildTestImage();
  const rows = [];
  try {
    for (const n of [20, 100]) {
      const floor = await rawCreateStart(n, image);
      await removeAll(floor.ids);
      rmSync(floor.dir, { recursive: true, force: true });
      const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-'));
      const project = `bench-${n}-${randomBytes(3).toString('hex')}`;
      fleetFile(dir, project, n, image, '64m');
      try {
        const cold = cli(['apply', '--parallel', String(PARALLEL)], dir);
        rows.push([
          `cold apply, ${n} agents`,
          s(cold),
          s(floor.ms),
          (cold / floor.ms).toFixed(2) + 'x',
          '<= 1.25x',
        ]);
        if (n === 100) {
          const noop = median([0, 1, 2, 3, 4].map(() => cli(['apply'], dir)));
          rows.push([`no-op apply, ${n} agents (median of 5)`, s(noop), '-', '-', '<= 0.350 s']);
          fleetFile(dir, project, n, image, '96m');
          const update = cli(['apply', '--parallel', String(PARALLEL)], dir);
          const ids = (
            await api(
              'GET',
              `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`agentctl.project=${project}`] }))}`,
            )
          ).map((c) => c.Id);
          const updFloor = await rawUpdate(ids, 128 << 20);
          rows.push([
            `in-place memory update, ${n} agents`,
            s(update),
            s(updFloor),
            (update / updFloor).toFixed(2) + 'x',
            '-',
          ]);
        }
      } finally {
        cli(['down', '--data', '--timeout', '0'], dir);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    close();
  }
  const head = ['benchmark', 'agentctl', 'raw-API floor', 'ratio', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`parallelism ${PARALLEL}; image ${image}; ${os.cpus().length} CPUs`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

await main();
