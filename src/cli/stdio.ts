/**
 * What the CLI does when the reader of its output goes away (`agentctl ps | head`, `--help | head`):
 * node gets EPIPE where a C program gets SIGPIPE, and without a listener the write error crashed the
 * process with a stack trace. Every command stops quietly instead, exiting 141 as a pipe's writer killed
 * by SIGPIPE does: its output was cut short, and a script with `pipefail` sees that.
 */
import { EXIT } from '../errors.js';

let quiet = false;
let listening = false;

/** Once, by the top-level handler, for every command. */
export function stopOnClosedPipe(): void {
  if (listening) return;
  listening = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // A command that listens for its own output's errors ends itself: exec first stops the command it
      // runs in the agent (output-sink.ts), the MCP server its sessions.
      if (stream.listenerCount('error') > 1) return;
      if (err.code === 'EPIPE') process.exit(quiet ? (process.exitCode ?? EXIT.ok) : EXIT.closedPipe);
      throw err;
    });
  }
}

/**
 * Streaming commands write until the reader goes away (`agentctl logs -f x | head`): for them that is how
 * they end, not an error, and they exit with their own code (0 unless something else failed).
 */
export function exitQuietlyOnClosedPipe(): void {
  quiet = true;
  stopOnClosedPipe();
}
