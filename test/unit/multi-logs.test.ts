/** Multi-agent logs: engine timestamps compared, streams merged in time order, lines split and stamped. */
import { describe, expect, it } from 'vitest';
import { compareTimes, linesOf, type LogLine, mergeByTime } from '../../src/ops/multi-logs.js';
import { logLineFormatter } from '../../src/render/log-prefix.js';

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const line = (agent: string, time: string, text = `${agent}@${time}`): LogLine => ({
  agent,
  project: 'p',
  stream: 'stdout',
  time,
  text,
});

describe('compareTimes', () => {
  const cases: [string, string, number][] = [
    ['2026-12-02T04:00:00.5Z', '2026-12-02T04:00:00.49Z', 1],
    ['2026-12-02T04:00:00Z', '2026-12-02T04:00:00.000000001Z', -1],
    ['2026-12-02T04:00:00.1Z', '2026-12-02T04:00:00.100000000Z', 0],
    ['2026-12-02T03:59:59.9Z', '2026-12-02T04:00:00Z', -1],
  ];
  it.each(cases)('%s vs %s', (a, b, want) => expect(Math.sign(compareTimes(a, b))).toBe(want));
});

describe('mergeByTime', () => {
  it('merges in time order, equal times in the order of the sources', async () => {
    const a = [line('a', '2026-01-01T00:00:01Z'), line('a', '2026-01-01T00:00:03Z')];
    const b = [line('b', '2026-01-01T00:00:01Z'), line('b', '2026-01-01T00:00:02.5Z')];
    const got = await all(mergeByTime([from(a), from(b), from([])]));
    expect(got.map((l) => l.text)).toEqual([
      'a@2026-01-01T00:00:01Z',
      'b@2026-01-01T00:00:01Z',
      'b@2026-01-01T00:00:02.5Z',
      'a@2026-01-01T00:00:03Z',
    ]);
  });
});

describe('linesOf', () => {
  const frame = (stream: 1 | 2, text: string) => {
    const payload = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  };
  it('splits frames into lines per stream, across chunk borders, and keeps a last line without newline', async () => {
    const raw = Buffer.concat([
      frame(1, '2026-01-01T00:00:01Z hel'),
      frame(2, '2026-01-01T00:00:01.5Z oops\n'),
      frame(1, 'lo\n2026-01-01T00:00:02Z last'),
    ]);
    const chunks = [raw.subarray(0, 5), raw.subarray(5, 30), raw.subarray(30)];
    const got = await all(linesOf(from(chunks), false, { agent: 'x', project: 'p' }));
    expect(got).toEqual([
      { agent: 'x', project: 'p', stream: 'stderr', time: '2026-01-01T00:00:01.5Z', text: 'oops' },
      { agent: 'x', project: 'p', stream: 'stdout', time: '2026-01-01T00:00:01Z', text: 'hello' },
      { agent: 'x', project: 'p', stream: 'stdout', time: '2026-01-01T00:00:02Z', text: 'last' },
    ]);
  });
});

describe('logLineFormatter', () => {
  it('pads prefixes to the longest id, colors them only when asked, drops them with --no-prefix', () => {
    const l = line('a', '2026-01-01T00:00:01Z', 'hi');
    const f = logLineFormatter(['a', 'worker'], { prefix: true, timestamps: false }, () => false);
    expect(f(l)).toBe('a      | hi\n');
    const c = logLineFormatter(['a', 'worker'], { prefix: true, timestamps: true }, () => true);
    expect(c(l)).toBe('\x1b[36ma      |\x1b[39m 2026-01-01T00:00:01Z hi\n');
    expect(logLineFormatter(['a'], { prefix: false, timestamps: false }, () => true)(l)).toBe('hi\n');
  });
});
