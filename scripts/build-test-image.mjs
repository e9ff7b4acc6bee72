#!/usr/bin/env node
// Builds the busybox image the tests and the benchmark use: FROM scratch + the static busybox from
// Debian's busybox-static package + a non-root `agent` user. Offline, about a second.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_IMAGE = 'agentctl-test-busybox:latest';
const BUSYBOX = '/bin/busybox';
const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'busybox-image',
);

export function buildTestImage() {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'agentctl-image-'));
  try {
    for (const f of readdirSync(FIXTURE)) copyFileSync(path.join(FIXTURE, f), path.join(ctx, f));
    copyFileSync(BUSYBOX, path.join(ctx, 'busybox'));
    execFileSync('docker', ['build', '-q', '-t', TEST_IMAGE, ctx], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return TEST_IMAGE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(buildTestImage());
