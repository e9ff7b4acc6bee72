/**
 * SIGINT/SIGTERM during a one-shot run: the first signal asks the run to stop starting new work (its
 * AbortSignal) and lets what is in flight end, so the run can report what was done and release the
 * project lock; a second signal exits at once (a lock left behind then names a dead pid, and the next
 * run takes it over).
 */
import { exitCodeForSignal } from '../errors.js';

export { exitCodeForSignal };

export interface Interruptible<T> {
  result: T;
  /** The signal that interrupted the run, if one did. */
  interruptedBy?: NodeJS.Signals;
}

export async function interruptible<T>(
  run: (signal: AbortSignal) => Promise<T>,
  what: string,
): Promise<Interruptible<T>> {
  const stop = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedBy) process.exit(exitCodeForSignal(signal));
    interruptedBy = signal;
    process.stderr.write(
      `agentctl: ${signal}: ${what}: letting the actions in flight finish, starting no new ones (${signal} again exits at once)\n`,
    );
    // The reason is the signal's name: a run stopped before it changed anything says which one.
    stop.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return { result: await run(stop.signal), interruptedBy };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
