/**
 * `apply --watch` on the command line: runs the watch controller until SIGINT/SIGTERM and prints its
 * events as text lines or as one JSON object per line. On a terminal, a status line under the log shows
 * the fleet; anything else gets plain lines only.
 */
import { AgentctlError, exitCodeForSignal } from '../errors.js';
import { useColor } from '../render/color.js';
import { watchEventToJson } from '../render/json-results.js';
import { FleetStatus, watchLines } from '../render/watch.js';
import { watch } from '../watch/controller.js';
import type { WatchEvent } from '../watch/events.js';
import { type SharedApplyFlags, sharedApplyOptions } from './apply-options.js';
import type { OutputFormat } from './io.js';

/** apply's flags that matter to --watch: those one-shot apply has too, and the watcher's own. */
export interface WatchFlags extends SharedApplyFlags {
  file: string;
  output: OutputFormat;
  dryRun?: boolean;
  resync: number;
  debounce: number;
}

export async function runWatch(flags: WatchFlags): Promise<void> {
  if (flags.dryRun) throw new AgentctlError('usage', '--watch and --dry-run cannot be combined: use diff');
  const output = new WatchOutput(flags.output);
  const handle = watch({
    file: flags.file,
    ...sharedApplyOptions(flags),
    resyncMs: flags.resync * 1000,
    debounceMs: flags.debounce,
    onEvent: (e) => output.write(e),
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      // Asked twice: leave now. A lock left behind names a dead pid and is taken over by the next run.
      output.close();
      process.exit(exitCodeForSignal(signal));
    }
    void handle.stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await handle.ready;
    await handle.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    output.close();
  }
}

class WatchOutput {
  private readonly status = new FleetStatus();
  /** A status line is drawn under the log: only text output to a terminal gets one. */
  private readonly tty: boolean;
  private readonly color: boolean;
  private drawn = false;

  constructor(private readonly format: OutputFormat) {
    this.tty = format === 'text' && Boolean(process.stdout.isTTY);
    this.color = useColor(process.stdout);
  }

  write(e: WatchEvent): void {
    if (this.format === 'json') {
      process.stdout.write(`${JSON.stringify(watchEventToJson(e))}\n`);
      return;
    }
    this.status.update(e);
    const lines = watchLines(e, this.color);
    this.clearStatus();
    for (const line of lines)
      (line.stream === 'out' ? process.stdout : process.stderr).write(`${line.text}\n`);
    if (this.tty && e.type !== 'stopped') {
      // One row only: a wrapped line could not be cleared with a carriage return.
      const width = (process.stdout.columns || 80) - 4; // room for an echoed ^C
      const plain = this.status.line(false);
      process.stdout.write(
        plain.length > width ? `${plain.slice(0, width - 1)}…` : this.status.line(this.color),
      );
      this.drawn = true;
    }
  }

  close(): void {
    this.clearStatus();
  }

  private clearStatus(): void {
    if (!this.drawn) return;
    process.stdout.write('\r\x1b[2K');
    this.drawn = false;
  }
}
