/**
 * Runs once before the test files: checks that a Docker engine is reachable and builds the busybox test
 * image (scripts/build-test-image.mjs, shared with the benchmark).
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
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
}
