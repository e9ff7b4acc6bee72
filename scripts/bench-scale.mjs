#!/usr/bin/env node
// Fleet-scale benchmark: N agents of the busybox test image with the default limits (bridge network,
// pids 1024, no nproc), parallelism 4, each figure beside a raw Engine-API floor measured in the same run.
//
//   node scripts/bench-scale.mjs            N = 100 (what `npm run bench` runs)
//   BENCH_N=1000 node scripts/bench-scale.mjs   or   node scripts/bench-scale.mjs --n 1000
//
//   cold apply                 vs  raw create+start of the same bodies (same parallelism)
//   no-op apply, ps            vs  node's start-up + one list call (+ parallel inspects of every container)
//   stats --no-stream          absolute (target 3 s)
//   apply --watch              a saved change of one agent -> converged, vs a raw update call; idle CPU
//                              over 10 s; RSS
//   down --data                vs  raw stop (same grace) + remove of the floor's fleet
//   RSS                        agentctl apply (cold) and watch; the engine (dockerd + containerd + shims)
//
// Host limits are printed first (what preflight warns about). Cleans up everything it creates.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, median, pool, ROOT, SOCKET, writeFleet } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const argN = process.argv.indexOf('--n');
const N = Number(argN > 0 ? process.argv[argN + 1] : (process.env.BENCH_N ?? 100));
if (!Number.isInteger(N) || N < 1) throw new Error(`bad N: ${N}`);
const PARALLEL = 4;
const GRACE = 10;

const { api, close } = engineClient({ maxSockets: 16 });
const { loadConfig } = await import(path.join(ROOT, 'dist', 'config', 'load.js'));
const { createBody } = await import(path.join(ROOT, 'dist', 'docker', 'container-config.js'));
const { hostLimits } = await import(path.join(ROOT, 'dist', 'reconcile', 'host-limits.js'));

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb) => `${Math.round(kb / 1024)} MiB`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
/** N agents: N-1 replicas and `one`, whose memory the watch trial changes. */
const fleet = (dir, project, image, oneMemory = '64m') =>
  writeFleet(dir, project, image, [`a: { replicas: ${N - 1} }`, `one: { memory: ${oneMemory} }`]);
const listQuery = (project) =>
  `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`agentctl.project=${project}`] }))}`;

/** A whole CLI process: wall time, and its peak RSS (VmHWM, polled from /proc). */
function cli(args, cwd, { allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let hwm = 0;
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (c) => (err += c));
    const poll = setInterval(() => (hwm = Math.max(hwm, vmKb(child.pid, 'VmHWM'))), 50);
    child.on('exit', (code) => {
      clearInterval(poll);
      const ms = performance.now() - t0;
      if (code !== 0 && !allowFail)
        reject(new Error(`agentctl ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve({ ms, rssKb: hwm });
    });
  });
}

function vmKb(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

/** The engine's processes: the dockerd serving our socket, its containerd, and that containerd's shims. */
function engineRssKb() {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      procs.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone
    }
  }
  const sock = SOCKET;
  const dockerd = procs.find(
    (p) =>
      path.basename(p.cmd[0] ?? '') === 'dockerd' &&
      (p.cmd.some((a) => a.includes(sock)) || (sock === '/var/run/docker.sock' && !p.cmd.includes('--host'))),
  );
  if (!dockerd) return { rss: 0, pss: 0 };
  const i = dockerd.cmd.indexOf('--exec-root');
  const execRoot = i >= 0 ? dockerd.cmd[i + 1] : '/var/run/docker';
  const mine = procs.filter(
    (p) => p === dockerd || p.cmd.some((a) => a.startsWith(`${execRoot}/containerd/`)),
  );
  // RSS adds up the pages the shims share (one binary, 1000 times); PSS splits them fairly.
  return {
    rss: mine.reduce((sum, p) => sum + vmKb(p.pid, 'VmRSS'), 0),
    pss: mine.reduce((sum, p) => sum + pssKb(p.pid), 0),
  };
}

function pssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function nodeStartup() {
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

async function main() {
  const image = buildTestImage();
  const limits = await hostLimits();
  console.log(
    `N=${N}; parallelism ${PARALLEL}; image ${image}; ${os.cpus().length} CPUs; ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  );
  console.log(`host limits: ${JSON.stringify(limits)}`);
  const rows = [];
  const row = (name, mine, floor, target) => rows.push([name, mine, floor ?? '-', target ?? '-']);
  // Other work on the machine slows the engine and the floor alike: say how loaded it was.
  const loads = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0]), 10_000);
  const started = performance.now();

  // 1. The floor fleet: raw create+start, then (down floor) raw stop with the same grace + remove.
  const fdir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-scale-floor-'));
  const fproject = `bscale-floor-${randomBytes(3).toString('hex')}`;
  fleet(fdir, fproject, image);
  const desired = await loadConfig(path.join(fdir, 'agents.yaml'));
  for (const a of desired.agents) mkdirSync(a.workDir, { recursive: true });
  const ids = [];
  let t0 = performance.now();
  await pool(desired.agents, PARALLEL, async (spec) => {
    const { Id } = await api('POST', `/containers/create?name=${spec.name}`, createBody(fproject, spec));
    await api('POST', `/containers/${Id}/start`);
    ids.push(Id);
  });
  const floorCold = performance.now() - t0;
  const engineIdleKb = engineRssKb();
  // The list + inspect floor of a no-op (measured while N containers exist).
  const startup = await nodeStartup();
  t0 = performance.now();
  await api('GET', listQuery(fproject));
  const listMs = performance.now() - t0;
  t0 = performance.now();
  await api('GET', listQuery(fproject));
  await pool(ids, 16, (id) => api('GET', `/containers/${id}/json`));
  const listInspectMs = performance.now() - t0;
  t0 = performance.now();
  await pool(ids, PARALLEL, async (id) => {
    await api('POST', `/containers/${id}/stop?t=${GRACE}`);
    await api('DELETE', `/containers/${id}?force=1`);
  });
  const floorDown = performance.now() - t0;
  rmSync(fdir, { recursive: true, force: true });

  // 2. agentctl.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-scale-'));
  const project = `bscale-${randomBytes(3).toString('hex')}`;
  fleet(dir, project, image);
  let watcher;
  try {
    const cold = await cli(['apply', '--parallel', String(PARALLEL)], dir);
    row(
      `cold apply, ${N} agents (incl. 3 s settle)`,
      s(cold.ms),
      s(floorCold),
      `<= 1.15x (${(cold.ms / floorCold).toFixed(2)}x)`,
    );
    const engineKb = engineRssKb();

    const noops = [];
    for (let i = 0; i < 3; i++) noops.push((await cli(['apply'], dir)).ms);
    const noopFloor = startup + listInspectMs;
    row(
      `no-op apply, ${N} (median of 3)`,
      s(median(noops)),
      `${s(noopFloor)} (node ${Math.round(startup)} ms + list ${Math.round(listMs)} ms + inspects)`,
      `<= 1.25x (${(median(noops) / noopFloor).toFixed(2)}x)`,
    );
    const pss = [];
    for (let i = 0; i < 3; i++) pss.push((await cli(['ps'], dir)).ms);
    row(
      `ps, ${N} (median of 3)`,
      s(median(pss)),
      s(noopFloor),
      `<= 1.25x (${(median(pss) / noopFloor).toFixed(2)}x)`,
    );
    const stats = await cli(['stats', '--no-stream'], dir);
    row(`stats --no-stream, ${N}`, s(stats.ms), '-', '<= 3 s');

    // apply --watch: one saved change, converged; idle CPU; RSS.
    watcher = spawn(process.execPath, [CLI, 'apply', '--watch', '-o', 'json'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events = [];
    let buf = '';
    const waiters = [];
    watcher.stdout.on('data', (c) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines.filter(Boolean)) {
        const e = { ...JSON.parse(l), at: performance.now() };
        events.push(e);
        for (const w of waiters.splice(0)) w(e);
      }
    });
    const nextEvent = (pred) =>
      new Promise((resolve) => {
        const check = (e) => (pred(e) ? resolve(e) : waiters.push(check));
        waiters.push(check);
      });
    await nextEvent((e) => e.type === 'reconcile');
    await sleep(2000);
    const c0 = cpuTicks(watcher.pid);
    await sleep(10_000);
    const idleCpu = (cpuTicks(watcher.pid) - c0) / 100 / 10; // clock ticks (100/s) over 10 s
    const watchRss = vmKb(watcher.pid, 'VmHWM');
    // The engine's own time for the change: a raw update of another container of the fleet.
    const other = (await api('GET', listQuery(project)))[0].Id;
    t0 = performance.now();
    await api('POST', `/containers/${other}/update`, { Memory: 96 << 20, MemorySwap: 96 << 20 });
    const engineUpdate = performance.now() - t0;
    await api('POST', `/containers/${other}/update`, { Memory: 64 << 20, MemorySwap: 64 << 20 });
    await sleep(3000); // the watcher's repair of that drift
    const saved = performance.now();
    const converged = nextEvent((e) => e.type === 'reconcile' && e.actions?.some((x) => x.agent === 'one'));
    fleet(dir, project, image, '96m');
    const ev = await Promise.race([converged, sleep(60_000).then(() => undefined)]);
    const mem = (await api('GET', `/containers/${project}-one/json`)).HostConfig.Memory;
    row(
      `apply --watch: saved change of 1 agent -> converged`,
      ev ? `${Math.round(ev.at - saved)} ms` : 'timed out',
      `${Math.round(engineUpdate)} ms (update)`,
      `<= 500 ms + engine (${ev ? Math.round(ev.at - saved - engineUpdate) : '?'} ms beyond); memory now ${mem >> 20}m`,
    );
    row(`apply --watch idle CPU over 10 s, ${N}`, `${(idleCpu * 100).toFixed(2)} % of a core`, '-', '< 1 %');
    row(`RSS: apply (cold) / watch`, `${mb(cold.rssKb)} / ${mb(watchRss)}`, '-', 'reported');
    row(
      `memory: engine (dockerd+containerd+shims)`,
      `RSS ${mb(engineKb.rss)} / PSS ${mb(engineKb.pss)} with ${N} agents`,
      `RSS ${mb(engineIdleKb.rss)} / PSS ${mb(engineIdleKb.pss)} with the floor's ${N}`,
      'reported',
    );
    const exited = new Promise((r) => watcher.on('exit', r));
    watcher.kill('SIGTERM');
    await exited;
    watcher = undefined;

    const down = await cli(['down', '--data', '--timeout', String(GRACE)], dir);
    row(
      `down --data, ${N} (grace ${GRACE} s)`,
      s(down.ms),
      s(floorDown),
      `<= 1.5x (${(down.ms / floorDown).toFixed(2)}x)`,
    );
  } finally {
    if (watcher) watcher.kill('SIGKILL');
    spawnSync(process.execPath, [CLI, 'down', '--data', '--timeout', '0'], { cwd: dir, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    close();
  }
  clearInterval(loadTimer);
  const avg = loads.reduce((x, y) => x + y, 0) / Math.max(1, loads.length);
  console.log(
    `run took ${s(performance.now() - started)}; 1-min load average during it: min ${Math.min(...loads).toFixed(1)}, mean ${avg.toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
  );
  const head = ['scale benchmark', 'agentctl', 'raw floor', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

await main();
