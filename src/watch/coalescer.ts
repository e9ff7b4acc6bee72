/**
 * Level-triggered scheduling for the watch controller. Triggers only mark the state dirty, with a
 * reason; a run starts `debounceMs` after the first trigger of a burst (later triggers in the window
 * join it rather than push it back, so a steady stream of events cannot starve it); at most one run is
 * in flight; and triggers that arrive during a run cause one more run, again after `debounceMs`, so the
 * engine events our own actions produce are collapsed into a single follow-up. Triggers that arrive
 * before the first run (`now`) only join it.
 */
export class Coalescer {
  private readonly reasons = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private started = false;

  constructor(
    private readonly debounceMs: number,
    /** Must not throw: errors are the runner's to report. */
    private readonly run: (reasons: string[]) => Promise<void>,
  ) {}

  trigger(reason: string): void {
    if (this.closed) return;
    this.reasons.add(reason);
    if (this.started && !this.timer && !this.running) this.schedule();
  }

  /** Runs at once, without the debounce (the first apply); waits for a run already in flight instead. */
  async now(reason: string): Promise<void> {
    if (this.closed) return;
    this.started = true;
    this.reasons.add(reason);
    if (this.running) return this.idle();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.fire();
    return this.idle();
  }

  /** Resolves when no run is in flight. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more runs; resolves once the one in flight (if any) has finished. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.idle();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, this.debounceMs);
  }

  private fire(): void {
    const reasons = [...this.reasons];
    this.reasons.clear();
    this.running = this.run(reasons)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.reasons.size > 0 && !this.closed) this.schedule();
      });
  }
}
