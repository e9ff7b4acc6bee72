import { describe, expect, it } from 'vitest';
import { Demultiplexer, type StreamName } from '../../src/docker/multiplex.js';

function frame(type: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Feeds `data` in pieces cut at `cuts` and returns what came out, per stream, plus the calls made. */
function demux(data: Buffer, cuts: number[] = []) {
  const out: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const d = new Demultiplexer((stream, chunk) => out[stream].push(Buffer.from(chunk)));
  let prev = 0;
  for (const cut of [...cuts, data.length]) {
    d.push(data.subarray(prev, cut));
    prev = cut;
  }
  return {
    stdout: Buffer.concat(out.stdout).toString('latin1'),
    stderr: Buffer.concat(out.stderr).toString('latin1'),
    incomplete: d.incomplete,
  };
}

describe('Demultiplexer', () => {
  const stream = Buffer.concat([
    frame(1, 'out one\n'),
    frame(2, 'err one\n'),
    frame(1, ''),
    frame(1, 'out two\n'),
    frame(0, 'stdin echo\n'),
    frame(3, 'engine error\n'),
  ]);

  it('separates stdout from stderr; stdin echo goes to stdout, engine errors to stderr', () => {
    expect(demux(stream)).toEqual({
      stdout: 'out one\nout two\nstdin echo\n',
      stderr: 'err one\nengine error\n',
      incomplete: false,
    });
  });

  it('gives the same result however the input is cut, headers included', () => {
    const whole = demux(stream);
    for (let cut = 1; cut < stream.length; cut++) expect(demux(stream, [cut])).toEqual(whole);
    // One byte at a time.
    expect(demux(stream, [...Array(stream.length).keys()].slice(1))).toEqual(whole);
  });

  it('hands payload on as it arrives, before the frame is complete', () => {
    const big = frame(1, Buffer.alloc(100_000, 'x'));
    const seen: number[] = [];
    const d = new Demultiplexer((_s, chunk) => seen.push(chunk.length));
    d.push(big.subarray(0, 8 + 10));
    expect(seen).toEqual([10]);
    expect(d.incomplete).toBe(true);
    d.push(big.subarray(8 + 10));
    expect(seen).toEqual([10, 100_000 - 10]);
    expect(d.incomplete).toBe(false);
  });

  it('keeps binary payload byte for byte', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 0x80, 10]);
    const out: Buffer[] = [];
    new Demultiplexer((_s, c) => out.push(Buffer.from(c))).push(frame(1, bytes));
    expect(Buffer.concat(out)).toEqual(bytes);
  });

  it('reports a stream that stops inside a header or a payload', () => {
    const f = frame(2, 'abc');
    expect(demux(f.subarray(0, 5)).incomplete).toBe(true);
    expect(demux(f.subarray(0, 9)).incomplete).toBe(true);
    expect(demux(f).incomplete).toBe(false);
  });
});
