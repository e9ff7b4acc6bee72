#!/usr/bin/env node
// npm run bench (second part): how fast `agentctl apply --watch` reacts, against the engine's own time.
//
//   file saved -> change converged   one agent's memory changed in the file, until the engine reports
//                                    the update (its `update` event); vs a raw update call's duration
//   docker kill -> running again     an agent (restart: "no") killed, until the engine reports it
//                                    started again; vs a raw start call's duration
//
// Each is the median of 20 trials against one real `agentctl apply --watch` process, timed from this
// process by the engine's own event stream. Each kill trial hits a different agent, so the per-agent
// repair back-off (immediate first repair) is not what is measured. Cleans up everything it creates.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, median, SOCKET, writeFleet } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const { agent, api } = engineClient({ maxSockets: 8 });

const TRIALS = 20;

/** The engine's container events, as they arrive here: wait for one matching a predicate. */
function engineEvents(filters) {
  const waiters = [];
  const req = http.request({
    socketPath: SOCKET,
    agent: false,
    path: `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`,
  });
  const ready = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let pending = '';
      res.on('data', (chunk) => {
        const at = performance.now();
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines.filter(Boolean)) {
          const e = JSON.parse(line);
          for (const w of waiters.filter((x) => x.match(e))) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(at);
          }
        }
      });
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', reject);
  });
  req.end();
  return {
    ready,
    next(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.push(w);
        setTimeout(() => {
          if (waiters.includes(w)) reject(new Error('timed out waiting for an engine event'));
        }, timeoutMs).unref();
      });
    },
    close: () => req.destroy(),
  };
}

const is = (action, name) => (e) => e.Action === action && e.Actor?.Attributes?.name === name;
const ms = (x) => `${Math.round(x)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Agent a (whose memory the trials change) and TRIALS agents to kill. */
const fleetFile = (dir, project, image, memory) =>
  writeFleet(dir, project, image, [
    `a: { memory: ${memory} }`,
    // restart "no": the engine's own restart policy must not be what brings a killed agent back.
    `k: { replicas: ${TRIALS}, restart: "no" }`,
  ]);

/** The watcher, started and ready: its first apply has run. */
async function startWatcher(dir) {
  const child = spawn(process.execPath, [CLI, 'apply', '--watch', '-o', 'json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c.toString();
      if (out.includes('"type":"reconcile"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`agentctl apply --watch exited ${code}`)));
  });
  return child;
}

/** The engine's own time for the two actions: raw calls on a container nobody watches. */
async function engineFloor(image) {
  const { Id } = await api(
    'POST',
    `/containers/create?name=bench-watch-floor-${randomBytes(3).toString('hex')}`,
    {
      Image: image,
      Cmd: ['sleep', '1000000'],
      HostConfig: { Init: true, Memory: 64 << 20, MemorySwap: 64 << 20 },
    },
  );
  try {
    await api('POST', `/containers/${Id}/start`);
    const update = [];
    for (let i = 0; i < TRIALS; i++) {
      const mem = (i % 2 ? 64 : 96) << 20;
      const t0 = performance.now();
      await api('POST', `/containers/${Id}/update`, { Memory: mem, MemorySwap: mem });
      update.push(performance.now() - t0);
    }
    const start = [];
    for (let i = 0; i < TRIALS; i++) {
      await api('POST', `/containers/${Id}/kill`);
      await api('POST', `/containers/${Id}/wait?condition=not-running`).catch(() => undefined);
      const t0 = performance.now();
      await api('POST', `/containers/${Id}/start`);
      start.push(performance.now() - t0);
    }
    return { update: median(update), start: median(start) };
  } finally {
    await api('DELETE', `/containers/${Id}?force=1`);
  }
}

async function main() {
  const image = buildTestImage();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-watch-'));
  const project = `benchw-${randomBytes(3).toString('hex')}`;
  const events = engineEvents({ type: ['container'], label: [`agentctl.project=${project}`] });
  await events.ready;
  let watcher;
  try {
    const floor = await engineFloor(image);
    fleetFile(dir, project, image, '64m');
    watcher = await startWatcher(dir);
    await sleep(500);

    const fileToConverged = [];
    for (let i = 0; i < TRIALS; i++) {
      const updated = events.next(is('update', `${project}-a`));
      const t0 = performance.now();
      fleetFile(dir, project, image, i % 2 === 0 ? '96m' : '64m');
      fileToConverged.push((await updated) - t0);
      // Let the watcher's echo of its own change (a no-op reconcile) pass before the next trial.
      await sleep(300);
    }
    const memory = (await api('GET', `/containers/${project}-a/json`)).HostConfig.Memory;
    if (memory !== 64 << 20) throw new Error(`agent a ended at ${memory} bytes, not 64m`);

    const killToRunning = [];
    for (let i = 1; i <= TRIALS; i++) {
      const name = `${project}-k-${i}`;
      const started = events.next(is('start', name));
      const t0 = performance.now();
      await api('POST', `/containers/${name}/kill`);
      killToRunning.push((await started) - t0);
      await sleep(300);
    }

    const rows = [
      [
        `file saved -> change converged (median of ${TRIALS})`,
        ms(median(fileToConverged)),
        `${ms(floor.update)} (update)`,
        ms(median(fileToConverged) - floor.update),
        '< 500 ms beyond the engine',
      ],
      [
        `docker kill -> running again (median of ${TRIALS})`,
        ms(median(killToRunning)),
        `${ms(floor.start)} (start)`,
        ms(median(killToRunning) - floor.start),
        '< 1000 ms',
      ],
    ];
    const head = ['watch benchmark', 'agentctl', "engine's own", 'beyond engine', 'target'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(`debounce 100 ms (default); ${TRIALS + 1} agents; ${os.cpus().length} CPUs`);
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  } finally {
    if (watcher && watcher.exitCode === null) {
      const exited = new Promise((r) => watcher.on('exit', r));
      watcher.kill('SIGTERM');
      await exited;
    }
    events.close();
    spawnSync(process.execPath, [CLI, 'down', '--data', '--timeout', '0'], { cwd: dir, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
}

await main();
