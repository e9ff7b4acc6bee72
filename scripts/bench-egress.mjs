#!/usr/bin/env node
// npm run bench (or node scripts/bench-egress.mjs after npm run build): the latency an egress policy
// adds to one allowed plain-HTTP request, against a direct request measured in the same run.
//
//   via the gateway: a policy agent (egress: { allow: [web.test:8080] }) fetching through the proxy
//   direct:          a container on the gateway's outbound network fetching from the same server
//
// Both clients are the busybox test image running `nc` in one `docker exec` loop of REQUESTS requests
// (the exec's own cost is spread over the loop; starting nc is in both sides alike, so the difference is
// what the gateway adds).
// Rounds alternate, so load from anything else on the machine hits both alike. Local only: the server
// is a busybox httpd container this script makes. Cleans up everything it creates.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, writeFleet } from './bench-lib.mjs';
import { buildTestImage, TEST_IMAGE } from './build-test-image.mjs';

const REQUESTS = Number(process.env.BENCH_EGRESS_REQUESTS ?? 100);
const ROUNDS = 3;

const project = `bench-egress-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(path.join(os.tmpdir(), `${project}-`));
const web = `${project}-web`;
const direct = `${project}-direct`;
const agent = `${project}-coder`;
const docker = (...args) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const cli = (...args) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`agentctl ${args.join(' ')}: ${r.stderr}`);
};

function loop(container, target, request) {
  const body = `printf 'GET ${request} HTTP/1.0\\r\\n\\r\\n' | nc ${target} >/dev/null`;
  const started = performance.now();
  execFileSync('docker', [
    'exec',
    container,
    'sh',
    '-c',
    `i=0; while [ $i -lt ${REQUESTS} ]; do ${body}; i=$((i+1)); done`,
  ]);
  return performance.now() - started;
}

try {
  buildTestImage();
  writeFleet(
    dir,
    project,
    TEST_IMAGE,
    ['coder:', '  command: [sleep, "3600"]', '  egress: { allow: ["web.test:8080"] }'],
    { cpus: null },
  );
  cli('apply');
  const outbound = `agentctl-egress-out-${project}`;
  docker(
    'run',
    '-d',
    '--name',
    web,
    '--user',
    '0',
    '--network',
    outbound,
    '--network-alias',
    'web.test',
    TEST_IMAGE,
    'sh',
    '-c',
    'mkdir -p /tmp/w && echo hi > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w',
  );
  docker('run', '-d', '--name', direct, '--network', outbound, TEST_IMAGE, 'sleep', '3600');
  const viaGateway = () => loop(agent, 'agentctl-egress-gateway 3128', 'http://web.test:8080/index.html');
  const straight = () => loop(direct, 'web.test 8080', '/index.html');
  viaGateway();
  straight(); // warm-up: DNS caches, the gateway's first connection
  const g = [];
  const d = [];
  for (let i = 0; i < ROUNDS; i++) {
    g.push(viaGateway());
    d.push(straight());
  }
  const best = (xs) => Math.min(...xs);
  const per = (t) => t / REQUESTS;
  const gw = per(best(g));
  const dr = per(best(d));
  console.log(
    `egress: one allowed HTTP request, best of ${ROUNDS} loops of ${REQUESTS} (each includes starting nc)`,
  );
  console.log(`  direct (outbound network)     ${dr.toFixed(2)} ms`);
  console.log(`  through the egress gateway    ${gw.toFixed(2)} ms`);
  console.log(
    `  added by the gateway          ${(gw - dr).toFixed(2)} ms per request (${(gw / Math.max(dr, 0.01)).toFixed(1)}x)`,
  );
} finally {
  spawnSync('docker', ['rm', '-f', web, direct], { stdio: 'ignore' });
  spawnSync(process.execPath, [CLI, 'down'], { cwd: dir, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
