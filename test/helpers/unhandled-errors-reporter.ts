/**
 * Fails the run on every unhandled error but one: vitest's own "Timeout calling onTaskUpdate" (or any
 * other of its worker RPC calls). The worker gets it when a test file keeps its event loop busy past
 * vitest's fixed 60 s RPC deadline, e.g. with synchronous child processes on a loaded 2-core machine;
 * it says nothing about agentctl, and every test still reports its own result. It is printed as a
 * warning so that the slow file can be found and made asynchronous (test/helpers/cli.ts agentctlAsync).
 * vitest.config.ts sets dangerouslyIgnoreUnhandledErrors so that this reporter, not vitest, decides.
 */
import type { Reporter, SerializedError } from 'vitest/node';

const WORKER_RPC_TIMEOUT = /^\[vitest-worker\]: Timeout calling "/;

export default class UnhandledErrorsReporter implements Reporter {
  onTestRunEnd(_modules: unknown, errors: ReadonlyArray<SerializedError>): void {
    const real = errors.filter((e) => !WORKER_RPC_TIMEOUT.test(e.message ?? ''));
    const rpc = errors.length - real.length;
    if (rpc > 0)
      process.stderr.write(
        `warning: ${rpc} vitest worker RPC timeout(s): a test file blocked its worker for over 60 s (not counted as a failure)\n`,
      );
    if (real.length > 0) process.exitCode = 1;
  }
}
