/**
 * A test image with bash: the busybox test image plus the host's /bin/bash and the shared libraries it
 * needs (read from ldd), so sessions are tested under bash as well as busybox sh, offline. Tagged as
 * this suite's own image; the shared busybox image is never changed.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_IMAGE } from './docker.js';

export const BASH_TEST_IMAGE = 'agentctl-test-bash:latest';

export function buildBashImage(): string {
  const ctx = mkdtempSync(path.join(os.tmpdir(), 'agentctl-bash-image-'));
  try {
    const libs = execFileSync('ldd', ['/bin/bash'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    for (const file of ['/bin/bash', ...libs]) {
      const dest = path.join(ctx, 'root', file);
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(file, dest);
    }
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCOPY root/ /\n`);
    execFileSync('docker', ['build', '-q', '-t', BASH_TEST_IMAGE, ctx], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return BASH_TEST_IMAGE;
}
