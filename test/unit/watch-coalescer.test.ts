/** The watch controller's scheduling: dirty marks, debounce, one run at a time, a follow-up when needed. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from '../../src/watch/coalescer.js';

describe('Coalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A runner that records each run's reasons and stays busy until released. */
  function recorder() {
    const runs: string[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: (() => void)[] = [];
    const run = async (reasons: string[]) => {
      runs.push([...reasons].sort());
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => releases.push(resolve));
      inFlight -= 1;
    };
    const finishRun = async () => {
      releases.shift()?.();
      await vi.advanceTimersByTimeAsync(0);
    };
    return { runs, run, finishRun, maxInFlight: () => maxInFlight };
  }

  it('holds triggers that come before the first run and hands them to it', async () => {
    const r = recorder();
    const c = new Coalescer(100, r.run);
    c.trigger('file');
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.runs).toEqual([]);
    const first = c.now('start');
    expect(r.runs).toEqual([['file', 'start']]);
    await r.finishRun();
    await first;
  });

  it('collapses a burst into one run, debounceMs after its first trigger', async () => {
    const r = recorder();
    const c = new Coalescer(100, r.run);
    const first = c.now('start');
    await r.finishRun();
    await first;
    c.trigger('engine:die:a');
    await vi.advanceTimersByTimeAsync(60);
    c.trigger('engine:start:a');
    c.trigger('file');
    await vi.advanceTimersByTimeAsync(39);
    expect(r.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.runs).toEqual([['start'], ['engine:die:a', 'engine:start:a', 'file']]);
    await r.finishRun();
  });

  it('never runs twice at once: triggers during a run make exactly one follow-up', async () => {
    const r = recorder();
    const c = new Coalescer(100, r.run);
    void c.now('start');
    for (let i = 0; i < 5; i++) c.trigger(`engine:create:a${i}`);
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.runs).toHaveLength(1);
    await r.finishRun();
    expect(r.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(r.runs).toHaveLength(2);
    expect(r.runs[1]).toHaveLength(5);
    await r.finishRun();
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.runs).toHaveLength(2);
    expect(r.maxInFlight()).toBe(1);
  });

  it('close waits for the run in flight and runs nothing after it', async () => {
    const r = recorder();
    const c = new Coalescer(100, r.run);
    void c.now('start');
    c.trigger('resync');
    let closed = false;
    const closing = c.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    await r.finishRun();
    await closing;
    c.trigger('file');
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.runs).toEqual([['start']]);
  });

  it('keeps going after a run that throws', async () => {
    const runs: string[][] = [];
    const c = new Coalescer(10, async (reasons) => {
      runs.push(reasons);
      throw new Error('boom');
    });
    await c.now('start');
    c.trigger('resync');
    await vi.advanceTimersByTimeAsync(10);
    await c.idle();
    expect(runs).toEqual([['start'], ['resync']]);
  });
});
