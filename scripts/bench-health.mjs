#!/usr/bin/env node
/**
 * What one exec-based health probe costs the engine, to choose the default healthcheck interval.
 *
 * Runs N busybox agents with the default probe (/sbin/docker-init --version) every second, and the same
 * N without a healthcheck, and samples the CPU time of the engine serving DOCKER_HOST over the same
 * window: its dockerd, its containerd and their shims (a shim reaps the `runc exec` it starts, so runc's
 * time is in the shim's children's time). The probe's own process (it prints a version) is left out.
 * The difference, divided by the probes the engine reports (exec_die events), is one probe's cost, and
 * the script prints what an interval costs at 1000 agents.
 *
 * Use an engine of your own (DOCKER_HOST=unix:///tmp/x/docker.sock): on a shared engine other people's
 * work lands in the same processes. Options: BENCH_HEALTH_N (default 10), BENCH_HEALTH_S (default 30).
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const HOST = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const SOCKET = HOST.replace(/^unix:\/\//, '');
const N = Number(process.env.BENCH_HEALTH_N ?? 10);
const WINDOW_S = Number(process.env.BENCH_HEALTH_S ?? 30);
const IMAGE = 'agentctl-test-busybox:latest';
const PREFIX = `bench-health-${process.pid}`;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const docker = (...args) => execFileSync('docker', ['-H', HOST, ...args], { encoding: 'utf8' }).trim();

/** utime + stime + cutime + cstime of a process, in ms. */
function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / TICKS;
  } catch {
    return 0; // gone
  }
}

/** The engine's processes: the dockerd serving our socket, its containerd, and that containerd's shims. */
function enginePids() {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    try {
      procs.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone
    }
  }
  const dockerd = procs.find(
    (p) =>
      path.basename(p.cmd[0] ?? '') === 'dockerd' &&
      (p.cmd.some((a) => a.includes(SOCKET)) ||
        (SOCKET === '/var/run/docker.sock' && !p.cmd.includes('--host'))),
  );
  if (!dockerd) throw new Error(`no dockerd serving ${SOCKET} found in /proc`);
  const i = dockerd.cmd.indexOf('--exec-root');
  const execRoot = i >= 0 ? dockerd.cmd[i + 1] : '/var/run/docker';
  return procs.filter((p) => p === dockerd || p.cmd.some((a) => a.startsWith(`${execRoot}/containerd/`)));
}

const engineCpuMs = () => enginePids().reduce((sum, p) => sum + cpuMs(p.pid), 0);

/** One Engine API call over the unix socket (the exec form of a healthcheck has no `docker run` flag). */
function api(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: SOCKET, method, path: urlPath, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode < 300
            ? resolve(text ? JSON.parse(text) : {})
            : reject(new Error(`${urlPath}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

async function fleet(name, healthcheck) {
  const ids = [];
  for (let i = 0; i < N; i++) {
    const { Id } = await api('POST', `/containers/create?name=${PREFIX}-${name}-${i}`, {
      Image: IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: { bench: PREFIX },
      Healthcheck: healthcheck,
      HostConfig: { Init: true, NetworkMode: 'none' },
    });
    await api('POST', `/containers/${Id}/start`);
    ids.push(Id);
  }
  return ids;
}

async function measure(name, healthcheck) {
  const ids = await fleet(name, healthcheck);
  await new Promise((r) => setTimeout(r, 3000)); // start-up settles
  const since = Math.floor(Date.now() / 1000);
  const before = engineCpuMs();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const cpu = engineCpuMs() - before;
  const wallMs = Date.now() - t0;
  const until = Math.floor(Date.now() / 1000);
  const probes = docker(
    'events',
    '--since',
    String(since),
    '--until',
    String(until),
    '--filter',
    `label=bench=${PREFIX}`,
    '--filter',
    'event=exec_die',
    '--format',
    '{{.ID}}',
  )
    .split('\n')
    .filter(Boolean).length;
  docker('rm', '-f', ...ids);
  return { cpu, wallMs, probes };
}

try {
  const idle = await measure('idle', { Test: ['NONE'] });
  const probed = await measure('probed', {
    Test: ['CMD', '/sbin/docker-init', '--version'],
    Interval: 1e9,
    Timeout: 10e9,
    Retries: 3,
  });
  const extra = probed.cpu - (idle.cpu * probed.wallMs) / idle.wallMs;
  const perProbe = probed.probes > 0 ? extra / probed.probes : NaN;
  console.log(`engine ${HOST}: ${N} agents, ${WINDOW_S} s windows`);
  console.log(`  idle:   ${idle.cpu.toFixed(0)} ms engine CPU in ${(idle.wallMs / 1000).toFixed(1)} s`);
  console.log(
    `  probed: ${probed.cpu.toFixed(0)} ms engine CPU in ${(probed.wallMs / 1000).toFixed(1)} s, ${probed.probes} probes`,
  );
  console.log(`  one probe: ${perProbe.toFixed(1)} ms of engine CPU (dockerd + containerd + shim + runc)`);
  for (const interval of [30, 60, 120, 300]) {
    const cores = (1000 / interval) * (perProbe / 1000);
    console.log(
      `  1000 agents every ${interval} s: ${(1000 / interval).toFixed(1)} probes/s, ${cores.toFixed(2)} cores`,
    );
  }
} finally {
  const left = docker('ps', '-aq', '--filter', `label=bench=${PREFIX}`).split('\n').filter(Boolean);
  if (left.length > 0) docker('rm', '-f', ...left);
}
