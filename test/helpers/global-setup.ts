/**
 * Runs once before the test files: checks that a Docker engine is reachable and builds the busybox test
 * image (scripts/build-test-image.mjs, shared with the benchmark); gives the run a cache directory of its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  // With a deadline: Docker 20.10's engine can deadlock in its network code with `/_ping` still
  // answering and `/info` hanging for ever; a run must then fail in a minute, not hang until CI's limit.
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 60_000 });
  } catch (err) {
    const hung = (err as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new Error(
      hung
        ? 'the Docker engine did not answer `docker info` within 60 s (a hung engine: restart dockerd)'
        : 'the tests need a running Docker engine (`docker info` failed); see README "Running the tests"',
    );
  }
  execFileSync(process.execPath, ['scripts/build-test-image.mjs'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // The CLI keeps a parse of every file it reads (config/parse-cache.ts): the thousands of throwaway
  // files of a test run go to a directory of the run's own, not the user's cache. Tests that need
  // another set their own.
  const cache = mkdtempSync(path.join(os.tmpdir(), 'agentctl-test-cache-'));
  process.env.AGENTCTL_CACHE_DIR = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
