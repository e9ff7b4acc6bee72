#!/usr/bin/env node
// Fleet-scale benchmark: N agents of the busybox test image with the default limits (bridge network,
// pids 1024, no nproc), parallelism 4, each figure beside a raw Engine-API floor measured in the same run.
//
//   node scripts/bench-scale.mjs            N = 100 (what `npm run bench` runs)
//   BENCH_N=1000 node scripts/bench-scale.mjs   or   node scripts/bench-scale.mjs --n 1000
//
//   cold apply                 vs  raw create+start of the same bodies (same parallelism)
//   no-op apply, ps            vs  a node process doing one list call and an inspect of every container
//                              (scripts/bench-observe-floor.mjs); they alternate, ROUNDS times, and each
//                              figure is its median, so that load from elsewhere hits them alike. Also a
//                              no-op apply right after the file was saved (its parse not kept yet)
//   engine idle CPU            dockerd + containerd + shims (and the runc they wait for) over 30 s
//   stats --no-stream          absolute (target 3 s), median of 3
//   apply --watch              a saved change of one agent -> converged, vs a raw update call; idle CPU
//                              over 10 s; RSS
//   down --data                vs  raw stop (same grace) + remove of the floor's fleet
//   RSS                        agentctl apply (cold) and watch; the engine (dockerd + containerd + shims)
//
// The host's limits are printed first (what apply's warnings read, before the fleet exists), and what the
// fleet takes of them once it runs: tasks, the engine's processes, descriptors and inotify instances.
// Cleans up everything it creates.
//
// Some trials only (a full run at 1000 takes 35-45 min, most of it making and removing fleets):
//
//   BENCH_ONLY=watch,stats BENCH_N=1000 node scripts/bench-scale.mjs
//                              trials among cold, noop, stats, watch, down (default: all). Without cold
//                              and down there is no floor fleet; without cold the fleet is still made by
//                              an apply (not a trial), without down it is still removed (not a trial)
//   BENCH_ROUNDS=15            more no-op rounds, for a tighter median on a noisy host
//   BENCH_KEEP=1               leaves the agentctl fleet running and prints its directory
//   BENCH_DIR=<that directory> runs the trials on that fleet instead of making one (N must match);
//                              leaves it running. E.g. make it once with BENCH_ONLY=cold BENCH_KEEP=1,
//                              then BENCH_ONLY=watch BENCH_DIR=... as often as needed
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, engineClient, median, pool, ROOT, SOCKET, writeFleet } from './bench-lib.mjs';
import { buildTestImage } from './build-test-image.mjs';

const argN = process.argv.indexOf('--n');
const N = Number(argN > 0 ? process.argv[argN + 1] : (process.env.BENCH_N ?? 100));
if (!Number.isInteger(N) || N < 1) throw new Error(`bad N: ${N}`);
const PARALLEL = 4;
const GRACE = 10;
/** Alternating rounds of (floor, no-op apply, ps, apply of a just-saved file): BENCH_ROUNDS, default 5. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`bad BENCH_ROUNDS: ${ROUNDS}`);
const FLOOR = path.join(ROOT, 'scripts', 'bench-observe-floor.mjs');
const TRIALS = ['cold', 'noop', 'stats', 'watch', 'down'];
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? TRIALS.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean),
);
for (const t of ONLY)
  if (!TRIALS.includes(t)) throw new Error(`BENCH_ONLY: unknown trial ${t} (${TRIALS.join(', ')})`);
const REUSE = process.env.BENCH_DIR;
const KEEP = process.env.BENCH_KEEP === '1' || REUSE !== undefined;
/** Saved changes of one agent timed against a running watcher (median). */
const WATCH_TRIALS = 5;

const { api, close } = engineClient({ maxSockets: 16 });
const { loadConfig } = await import(path.join(ROOT, 'dist', 'config', 'load.js'));
const { createBody } = await import(path.join(ROOT, 'dist', 'docker', 'container-config.js'));
const { hostLimits } = await import(path.join(ROOT, 'dist', 'reconcile', 'host-limits.js'));

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const spread = (xs) => `${s(Math.min(...xs))}-${s(Math.max(...xs))}`;
const mb = (kb) => `${Math.round(kb / 1024)} MiB`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
/** N agents: N-1 replicas and `one`, whose memory the watch trial changes. */
const fleet = (dir, project, image, oneMemory = '64m') =>
  writeFleet(dir, project, image, [`a: { replicas: ${N - 1} }`, `one: { memory: ${oneMemory} }`]);
const listQuery = (project) =>
  `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`agentctl.project=${project}`] }))}`;

/** A whole CLI process: wall time, and its peak RSS (VmHWM, polled from /proc). */
function cli(args, cwd, opts) {
  return nodeProcess([CLI, ...args], cwd, opts);
}

/** A whole node process (the CLI, or a floor script): wall time from spawn to exit, and peak RSS. */
function nodeProcess(argv, cwd, { allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let hwm = 0;
    let err = '';
    child.stdout.resume();
    child.stderr.on('data', (c) => (err += c));
    const poll = setInterval(() => (hwm = Math.max(hwm, vmKb(child.pid, 'VmHWM'))), 50);
    child.on('exit', (code) => {
      clearInterval(poll);
      const ms = performance.now() - t0;
      if (code !== 0 && !allowFail)
        reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
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

function cpuTicks(pid, { children = false } = {}) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime + stime, and with `children` the time of its children it waited for (cutime + cstime).
  return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
}

/**
 * The engine's CPU over `ms` while nothing is asked of it, in cores: dockerd, containerd and the shims,
 * with the short-lived processes they wait for (runc, which each health probe's exec starts).
 */
async function engineIdleCpu(ms) {
  const ticks = () =>
    engineProcs().reduce((n, p) => {
      try {
        return n + cpuTicks(p.pid, { children: true });
      } catch {
        return n; // gone
      }
    }, 0);
  const t0 = ticks();
  await sleep(ms);
  return (ticks() - t0) / 100 / (ms / 1000); // clock ticks are 1/100 s
}

/** The engine's processes: the dockerd serving our socket, its containerd, and that containerd's shims. */
function engineProcs() {
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
  if (!dockerd) return [];
  const i = dockerd.cmd.indexOf('--exec-root');
  const execRoot = i >= 0 ? dockerd.cmd[i + 1] : '/var/run/docker';
  // containerd is started with its config under the exec root, each shim with its socket there.
  return procs
    .filter((p) => p === dockerd || p.cmd.some((a) => a.startsWith(`${execRoot}/containerd/`)))
    .map((p) => ({
      ...p,
      role:
        p === dockerd
          ? 'dockerd'
          : path.basename(p.cmd[0] ?? '').startsWith('containerd-shim')
            ? 'shim'
            : 'containerd',
    }));
}

function engineRssKb() {
  const mine = engineProcs();
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

/** Tasks in a container's pids cgroup (cgroup v1 with the cgroupfs driver, or v2 with systemd's). */
function containerTasks(id) {
  for (const f of [
    `/sys/fs/cgroup/pids/docker/${id}/pids.current`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/pids.current`,
  ]) {
    try {
      return Number(readFileSync(f, 'utf8').trim());
    } catch {
      // the other layout
    }
  }
  return 0;
}

/** What the engine's processes hold of the host's limits: tasks, descriptors (of each one's limit), inotify. */
function engineFootprint() {
  const procs = engineProcs();
  const fds = (pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
  };
  const inotify = (pid) =>
    fds(pid).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify';
      } catch {
        return false;
      }
    }).length;
  const fdLimit = (pid) => {
    try {
      return /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? '?';
    } catch {
      return '?';
    }
  };
  const tasks = (pid) => {
    try {
      return readdirSync(`/proc/${pid}/task`).length;
    } catch {
      return 0;
    }
  };
  const of = (role) => procs.filter((p) => p.role === role);
  const daemon = (role) => {
    const p = of(role)[0];
    return p
      ? `${role} ${fds(p.pid).length} fds (limit ${fdLimit(p.pid)}), ${tasks(p.pid)} threads`
      : `${role} ?`;
  };
  const shims = of('shim');
  return {
    shims: shims.length,
    shimTasks: shims.reduce((n, p) => n + tasks(p.pid), 0),
    shimFds: shims.reduce((n, p) => n + fds(p.pid).length, 0),
    inotify: procs.reduce((n, p) => n + inotify(p.pid), 0),
    text: `${daemon('dockerd')}; ${daemon('containerd')}`,
  };
}

/** The project named by an existing fleet's file (BENCH_DIR). */
function projectOf(dir) {
  const m = /^project: (\S+)$/m.exec(readFileSync(path.join(dir, 'agents.yaml'), 'utf8'));
  if (!m) throw new Error(`${dir}/agents.yaml names no project`);
  return m[1];
}

/** The floor fleet: raw create+start, then (down floor) raw stop with the same grace + remove. */
async function floorFleet(image) {
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
  const cold = performance.now() - t0;
  const engineIdleKb = engineRssKb();
  t0 = performance.now();
  await pool(ids, PARALLEL, async (id) => {
    await api('POST', `/containers/${id}/stop?t=${GRACE}`);
    await api('DELETE', `/containers/${id}?force=1`);
  });
  const down = performance.now() - t0;
  rmSync(fdir, { recursive: true, force: true });
  return { cold, down, engineIdleKb };
}

/**
 * A running `apply --watch`: its JSON events as they arrive (each with `at`, this process's clock), and
 * a wait for the next one matching a predicate.
 */
function startWatcher(dir) {
  const child = spawn(process.execPath, [CLI, 'apply', '--watch', '-o', 'json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events = [];
  let buf = '';
  const waiters = [];
  child.stdout.on('data', (c) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines.filter(Boolean)) {
      const e = { ...JSON.parse(l), at: performance.now() };
      events.push(e);
      for (const w of waiters.splice(0)) w(e);
    }
  });
  const next = (pred, timeoutMs = 60_000) =>
    Promise.race([
      new Promise((resolve) => {
        const check = (e) => (pred(e) ? resolve(e) : waiters.push(check));
        waiters.push(check);
      }),
      sleep(timeoutMs).then(() => undefined),
    ]);
  const exited = new Promise((r) => child.on('exit', r));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return { child, events, next, stop };
}

/** Reconciles among events, by what triggered them: `engine:health_status: healthy:a-3` counts as engine:health_status. */
function triggerCounts(events) {
  const counts = {};
  for (const e of events.filter((x) => x.type === 'reconcile')) {
    for (const t of new Set(e.trigger.map((x) => x.split(':').slice(0, 2).join(':'))))
      counts[t] = (counts[t] ?? 0) + 1;
  }
  return Object.entries(counts)
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
}

/** apply --watch: idle CPU and what it ran meanwhile; saved changes of one agent, converged; RSS. */
async function watchTrial(dir, project, image, row) {
  const w = startWatcher(dir);
  try {
    const first = await w.next((e) => e.type === 'reconcile', 600_000);
    if (!first) throw new Error('apply --watch: no first reconcile within 10 min');
    await sleep(2000);
    const from = w.events.length;
    const c0 = cpuTicks(w.child.pid);
    await sleep(10_000);
    const idleCpu = (cpuTicks(w.child.pid) - c0) / 100 / 10; // clock ticks (100/s) over 10 s
    const idleRuns = w.events.slice(from).filter((e) => e.type === 'reconcile');
    const watchRss = vmKb(w.child.pid, 'VmHWM');
    // The engine's own time for the change: a raw update of another container of the fleet.
    const other = (await api('GET', listQuery(project)))[0].Id;
    let t0 = performance.now();
    await api('POST', `/containers/${other}/update`, { Memory: 96 << 20, MemorySwap: 96 << 20 });
    const engineUpdate = performance.now() - t0;
    await api('POST', `/containers/${other}/update`, { Memory: 64 << 20, MemorySwap: 64 << 20 });
    await sleep(3000); // the watcher's repair of that drift
    // Each saved change: from the write to the reconcile that acted on `one`; `waited` is the part before
    // that reconcile began (file notification, debounce, a run already in flight).
    const took = [];
    const waited = [];
    // Alternating from what `one` has now (a kept fleet may have been left at either).
    let memory = (await api('GET', `/containers/${project}-one/json`)).HostConfig.Memory >> 20;
    for (let i = 0; i < WATCH_TRIALS; i++) {
      memory = memory === 64 ? 96 : 64;
      const saved = performance.now();
      const converged = w.next((e) => e.type === 'reconcile' && e.actions?.some((x) => x.agent === 'one'));
      fleet(dir, project, image, `${memory}m`);
      const ev = await converged;
      if (!ev) throw new Error(`apply --watch: the saved change ${i + 1} did not converge within 60 s`);
      took.push(ev.at - saved);
      waited.push(ev.at - ev.durationMs - saved);
      await sleep(1500); // its follow-up (the engine's update event) done
    }
    const mem = (await api('GET', `/containers/${project}-one/json`)).HostConfig.Memory;
    if (mem >> 20 !== memory)
      throw new Error(`apply --watch: one has ${mem >> 20}m, the file says ${memory}m`);
    const ms = (x) => `${Math.round(x)} ms`;
    row(
      `apply --watch: saved change of 1 agent -> converged (median of ${WATCH_TRIALS}, range ${ms(Math.min(...took))}-${ms(Math.max(...took))}; ${ms(median(waited))} of it before its reconcile began)`,
      ms(median(took)),
      `${ms(engineUpdate)} (update)`,
      `<= 500 ms + engine (${ms(median(took) - engineUpdate)} beyond)`,
    );
    row(
      `apply --watch idle CPU over 10 s, ${N} (${idleRuns.length} reconciles meanwhile${idleRuns.length ? `: ${triggerCounts(idleRuns)}` : ''})`,
      `${(idleCpu * 100).toFixed(2)} % of a core`,
      '-',
      '< 1 %',
    );
    return watchRss;
  } finally {
    await w.stop();
  }
}

async function main() {
  const image = buildTestImage();
  const limits = await hostLimits();
  console.log(
    `N=${N}; parallelism ${PARALLEL}; image ${image}; ${os.cpus().length} CPUs; ${Math.round(os.totalmem() / 2 ** 30)} GiB; trials ${[...ONLY].join(', ')}${REUSE ? ` on the fleet of ${REUSE}` : ''}`,
  );
  // Read now, before any agent of the run exists: apply's warnings read the same figures before it starts
  // agents. `tasks` counts threads as the kernel's pid_max does (top's "Tasks" counts processes).
  console.log(`host limits before the run (tasks: threads and processes): ${JSON.stringify(limits)}`);
  const rows = [];
  const row = (name, mine, floor, target) => rows.push([name, mine, floor ?? '-', target ?? '-']);
  // Other work on the machine slows the engine and the floor alike: say how loaded it was.
  const loads = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0]), 10_000);
  const started = performance.now();

  const floor = ONLY.has('cold') || ONLY.has('down') ? await floorFleet(image) : undefined;

  // agentctl.
  const dir = REUSE ?? mkdtempSync(path.join(os.tmpdir(), 'agentctl-bench-scale-'));
  const project = REUSE ? projectOf(dir) : `bscale-${randomBytes(3).toString('hex')}`;
  let removed = false;
  try {
    let coldRssKb;
    if (REUSE) {
      const have = (await api('GET', listQuery(project))).length;
      if (have !== N) throw new Error(`BENCH_DIR: ${project} has ${have} containers, N is ${N}`);
    } else {
      fleet(dir, project, image);
      const cold = await cli(['apply', '--parallel', String(PARALLEL)], dir);
      coldRssKb = cold.rssKb;
      if (ONLY.has('cold') && floor) {
        row(
          `cold apply, ${N} agents (incl. 3 s settle)`,
          s(cold.ms),
          s(floor.cold),
          `<= 1.15x (${(cold.ms / floor.cold).toFixed(2)}x)`,
        );
      }
      const running = await hostLimits();
      const foot = engineFootprint();
      const agentTasks = (await api('GET', listQuery(project))).reduce((n, c) => n + containerTasks(c.Id), 0);
      const each = (x, k) => (x / Math.max(1, k)).toFixed(1);
      console.log(
        `host with the ${N} agents running: ${running.tasks} tasks of kernel.pid_max ${running.pidMax} (${running.tasks - limits.tasks} more than before, other work on the machine included); ` +
          `each agent ${each(foot.shimTasks, foot.shims)} shim threads + ${each(agentTasks, N)} tasks inside; ` +
          `${foot.shims} shims of this engine (${each(foot.shimFds, foot.shims)} fds each); ${foot.text}; ` +
          `${foot.inotify} inotify instances in the engine's processes (max_user_instances ${running.inotifyInstances}); ` +
          `MemAvailable ${mb(running.memAvailableBytes / 1024)} (${mb(limits.memAvailableBytes / 1024)} before)`,
      );
    }
    const engineKb = engineRssKb();

    if (ONLY.has('noop')) {
      // The floor and agentctl alternate, the order rotating each round, so that load from elsewhere on
      // the machine (which comes and goes) weighs on each about equally; each figure is a median.
      const times = { floor: [], apply: [], ps: [], saved: [] };
      const file = path.join(dir, 'agents.yaml');
      const text = readFileSync(file, 'utf8');
      let saves = 0;
      const runs = {
        floor: () => nodeProcess([FLOOR, project], dir),
        apply: () => cli(['apply'], dir),
        ps: () => cli(['ps'], dir),
        // The file just saved with nothing changed but a comment: its parse is not kept yet (see
        // src/config/parse-cache.ts), as in the first apply after an edit.
        saved: () => {
          writeFileSync(file, `${text}# saved ${++saves}\n`);
          return cli(['apply'], dir);
        },
      };
      const order = Object.keys(runs);
      const roundsLoad = [os.loadavg()[0]];
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < order.length; k++) {
          const which = order[(r + k) % order.length];
          times[which].push((await runs[which]()).ms);
        }
      }
      roundsLoad.push(os.loadavg()[0]);
      writeFileSync(file, text);
      console.log(`no-op rounds: 1-min load average ${roundsLoad.map((l) => l.toFixed(1)).join(' -> ')}`);
      const floorMs = median(times.floor);
      for (const [which, name] of [
        ['apply', 'no-op apply'],
        ['saved', 'no-op apply, file just saved'],
        ['ps', 'ps'],
      ]) {
        row(
          `${name}, ${N} (median of ${ROUNDS}, range ${spread(times[which])})`,
          s(median(times[which])),
          `${s(floorMs)} (node + list + inspects, range ${spread(times.floor)})`,
          `<= 1.25x (${(median(times[which]) / floorMs).toFixed(2)}x)`,
        );
      }
      const cores = await engineIdleCpu(30_000);
      row(
        `engine CPU while ${N} agents idle (30 s; each agent's health probe runs every 5 min)`,
        `${(cores * 100).toFixed(1)} % of a core`,
        '-',
        'reported',
      );
    }
    if (ONLY.has('stats')) {
      const stats = [];
      for (let i = 0; i < 3; i++) stats.push((await cli(['stats', '--no-stream'], dir)).ms);
      row(`stats --no-stream, ${N} (median of 3, range ${spread(stats)})`, s(median(stats)), '-', '<= 3 s');
    }
    const watchRss = ONLY.has('watch') ? await watchTrial(dir, project, image, row) : undefined;
    if (coldRssKb !== undefined || watchRss !== undefined) {
      row(
        `RSS: apply (cold) / watch`,
        `${coldRssKb !== undefined ? mb(coldRssKb) : '-'} / ${watchRss !== undefined ? mb(watchRss) : '-'}`,
        '-',
        'reported',
      );
    }
    row(
      `memory: engine (dockerd+containerd+shims)`,
      `RSS ${mb(engineKb.rss)} / PSS ${mb(engineKb.pss)} with ${N} agents`,
      floor
        ? `RSS ${mb(floor.engineIdleKb.rss)} / PSS ${mb(floor.engineIdleKb.pss)} with the floor's ${N}`
        : '-',
      'reported',
    );

    if (ONLY.has('down') && !KEEP) {
      const down = await cli(['down', '--data', '--timeout', String(GRACE)], dir);
      removed = true;
      row(
        `down --data, ${N} (grace ${GRACE} s)`,
        s(down.ms),
        s(floor.down),
        `<= 1.5x (${(down.ms / floor.down).toFixed(2)}x)`,
      );
    }
  } finally {
    if (KEEP) {
      console.log(`fleet kept: BENCH_DIR=${dir} (remove it with: cd ${dir} && agentctl down --data)`);
    } else {
      if (!removed) {
        spawnSync(process.execPath, [CLI, 'down', '--data', '--timeout', '0'], { cwd: dir, stdio: 'ignore' });
      }
      rmSync(dir, { recursive: true, force: true });
    }
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
