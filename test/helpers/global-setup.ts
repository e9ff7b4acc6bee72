/**
 * Runs once before the test files: checks that a Docker engine is reachable and builds the busybox test
 * image (scripts/build-test-image.mjs, shared with the benchmark).
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'the tests need a running Docker engine (`docker info` failed); see README "Running the tests"',
    );
  }
  execFileSync(process.execPath, ['scripts/build-test-image.mjs'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
