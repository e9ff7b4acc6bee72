/**
 * Where `exec` output goes: our stdout and stderr, with backpressure (a slow reader of our output slows
 * the command down rather than filling memory) and broken-pipe handling (`agentctl exec x -- yes | head`:
 * once our reader is gone, the command is stopped, as a pipe's writer would be).
 */
type Out = NodeJS.WriteStream;

export interface OutputSink {
  write(stream: 'stdout' | 'stderr', chunk: Buffer): void | Promise<void>;
  /** Whether a reader of our output went away. */
  readonly broken: boolean;
  dispose(): void;
}

export function outputSink(
  onBroken: () => void,
  outs = { stdout: process.stdout, stderr: process.stderr },
): OutputSink {
  // One pending drain per stream, however many frames a read held.
  const drains = new Map<Out, Promise<void>>();
  let broken = false;
  const onError = () => {
    if (broken) return;
    broken = true;
    onBroken();
  };
  outs.stdout.on('error', onError);
  outs.stderr.on('error', onError);
  const drained = (out: Out) => {
    let wait = drains.get(out);
    if (!wait) {
      wait = new Promise<void>((resolve) => {
        const done = () => {
          out.off('drain', done);
          out.off('error', done);
          drains.delete(out);
          resolve();
        };
        out.on('drain', done);
        out.on('error', done);
      });
      drains.set(out, wait);
    }
    return wait;
  };
  return {
    write(stream, chunk) {
      if (broken) return; // read and dropped: the command is being stopped
      const out = outs[stream];
      if (!out.write(chunk)) return drained(out);
    },
    get broken() {
      return broken;
    },
    dispose() {
      outs.stdout.off('error', onError);
      outs.stderr.off('error', onError);
    },
  };
}
