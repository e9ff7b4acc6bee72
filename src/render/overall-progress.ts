/**
 * The overall progress line of a long apply ("[ 12/40] 3 running, 1 failed, 8.2s"), drawn on a terminal
 * below the per-agent lines and redrawn in place: each per-agent line clears it, prints, and draws it
 * again, so the log above stays a clean list. Only on a terminal (the CLI decides): a file or a pipe
 * gets the per-agent lines alone, and JSON never sees it.
 */
import { paint } from './color.js';

export interface OverallState {
  done: number;
  total: number;
  running: number;
  failed: number;
  elapsedMs: number;
}

/** The line's text. Pure. */
export function overallLine(s: OverallState, color = false): string {
  const c = paint(color);
  const width = String(s.total).length;
  const parts = [`[${String(s.done).padStart(width)}/${s.total}] done`];
  if (s.running > 0) parts.push(`${s.running} in progress`);
  if (s.failed > 0) parts.push(c.red(`${s.failed} failed`));
  parts.push(`${(s.elapsedMs / 1000).toFixed(1)}s`);
  return parts.join(', ');
}

const CLEAR = '\r\x1b[K';

/** Where the line is drawn: a terminal's stream (stderr). */
export interface LineSink {
  write(text: string): unknown;
}

export class OverallProgress {
  private state: OverallState = { done: 0, total: 0, running: 0, failed: 0, elapsedMs: 0 };
  private shown = false;
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly opts: { color?: boolean; now?: () => number; tickMs?: number } = {},
  ) {
    this.started = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** The number of actions the run will carry out; the line appears from here on (if there are any). */
  begin(total: number): void {
    this.state.total = total;
    if (total === 0) return;
    this.draw();
    // Elapsed time moves while a slow action runs.
    if (this.opts.tickMs !== 0) this.timer = setInterval(() => this.draw(), this.opts.tickMs ?? 1000).unref();
  }

  actionBegan(): void {
    this.state.running++;
    this.draw();
  }

  actionEnded(ok: boolean): void {
    this.state.running = Math.max(0, this.state.running - 1);
    this.state.done++;
    if (!ok) this.state.failed++;
    this.draw();
  }

  /** A per-agent line (or any line) printed above the status line. */
  printAbove(line: string): void {
    this.sink.write(`${this.shown ? CLEAR : ''}${line}\n`);
    this.shown = false;
    this.draw();
  }

  /** Removes the line for good (before the summary). */
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.sink.write(CLEAR);
    this.shown = false;
    this.state.total = 0;
  }

  private draw(): void {
    if (this.state.total === 0) return;
    this.state.elapsedMs = this.now() - this.started;
    this.sink.write(`${CLEAR}${overallLine(this.state, this.opts.color)}`);
    this.shown = true;
  }
}
