import { describe, expect, it } from 'vitest';
import { OverallProgress, overallLine } from '../../src/render/overall-progress.js';

describe('overall progress line', () => {
  const cases: [string, Parameters<typeof overallLine>[0], string][] = [
    ['start', { done: 0, total: 12, running: 0, failed: 0, elapsedMs: 0 }, '[ 0/12] done, 0.0s'],
    [
      'under way',
      { done: 3, total: 12, running: 4, failed: 0, elapsedMs: 2345 },
      '[ 3/12] done, 4 in progress, 2.3s',
    ],
    [
      'with failures',
      { done: 12, total: 12, running: 0, failed: 2, elapsedMs: 61000 },
      '[12/12] done, 2 failed, 61.0s',
    ],
  ];
  it.each(cases)('%s', (_name, state, text) => {
    expect(overallLine(state)).toBe(text);
  });

  it('is redrawn in place below the per-agent lines, and cleared at the end', () => {
    let out = '';
    let t = 1000;
    const p = new OverallProgress({ write: (s: string) => (out += s) }, { now: () => t, tickMs: 0 });
    p.printAbove('before the plan'); // nothing drawn yet: a plain line
    p.begin(2);
    p.actionBegan();
    t += 1500;
    p.actionEnded(true);
    p.printAbove('ok    + create a (1.50s)');
    p.actionBegan();
    p.actionEnded(false);
    p.printAbove('FAIL  + create b: boom');
    p.end();
    // What a terminal shows: each \r\x1b[K wipes the status line before the next text.
    expect(out.split('\r\x1b[K')).toEqual([
      'before the plan\n',
      '[0/2] done, 0.0s',
      '[0/2] done, 1 in progress, 0.0s',
      '[1/2] done, 1.5s',
      'ok    + create a (1.50s)\n',
      '[1/2] done, 1.5s',
      '[1/2] done, 1 in progress, 1.5s',
      '[2/2] done, 1 failed, 1.5s',
      'FAIL  + create b: boom\n',
      '[2/2] done, 1 failed, 1.5s',
      '',
    ]);
  });

  it('draws nothing for a run with no actions', () => {
    let out = '';
    const p = new OverallProgress({ write: (s: string) => (out += s) }, { tickMs: 0 });
    p.begin(0);
    p.printAbove('x');
    p.end();
    expect(out).toBe('x\n');
  });
});
