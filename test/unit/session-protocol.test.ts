/** The host side of the session protocol: payload encoding, frame reading, capped output. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { encodeForShell } from '../../src/session/encode.js';
import { FrameReader } from '../../src/session/frames.js';
import { capped } from '../../src/session/output.js';

describe('encodeForShell', () => {
  it.each([
    ['plain', 'echo hi'],
    ['quotes and dollars', `a='$x' "b" \`c\``],
    ['backslashes and escapes', 'printf "\\n\\c\\0101" \\\\'],
    ['newlines, tabs, CR', 'a\nb\tc\r\n'],
    ['UTF-8', 'héllo ✓ 日本'],
    ['empty', ''],
  ])('%s: one space-free line that printf %%b turns back into the same bytes', (_name, text) => {
    const enc = encodeForShell(text);
    expect(enc).not.toMatch(/[\s]/);
    const back = execFileSync('sh', ['-c', 'printf "%b" "$1"', 'sh', enc]);
    expect(back.equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('encodes any byte, NUL and 0xff included', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const back = execFileSync('sh', ['-c', 'printf "%b" "$1"', 'sh', encodeForShell(all)]);
    expect(back.equals(all)).toBe(true);
  });
});

describe('FrameReader', () => {
  const body = (_t: string, f: string[]) => Number(f[0]);

  it('skips junk, finds the frame by its token, reads the body across chunks', async () => {
    const r = new FrameReader();
    const p = r.expect('abc', 2, body);
    for (const piece of ['junk\nxyz R 3 no\n', '\nab', 'c R 5 rest of', ' line\nhel', 'lo+more'])
      r.push(Buffer.from(piece));
    const f = await p;
    expect(f).toEqual({ type: 'R', fields: ['5', 'rest of line'], body: Buffer.from('hello') });
    // What followed the body waits for the next waiter.
    const q = r.expect('def', 2, () => 0);
    r.push(Buffer.from('\ndef H x y\n'));
    expect((await q).fields).toEqual(['x', 'y']);
  });

  it('a frame with another token is never taken for the expected one', async () => {
    const r = new FrameReader();
    let got = false;
    void r.expect('good', 2, () => 0).then(() => (got = true));
    r.push(Buffer.from('\nbad R 0 x\n\ngoodish R 0 x\n'));
    await new Promise((res) => setTimeout(res, 10));
    expect(got).toBe(false);
  });
});

describe('capped', () => {
  it('returns whole output as it is', () => {
    expect(capped(Buffer.from('abc'), 3, 10)).toEqual({ text: 'abc', truncated: false });
  });
  it('joins head and tail with a note of what was left out and where it is', () => {
    const r = capped(Buffer.from('HEADTAIL'), 100, 8, '/tmp/x');
    expect(r.truncated).toBe(true);
    expect(r.text).toBe('HEAD\n[... 92 of 100 bytes omitted; all of it is in /tmp/x ...]\nTAIL');
  });
  it('drops characters cut in two at the edges', () => {
    const bytes = Buffer.concat([
      Buffer.from('a'),
      Buffer.from('é').subarray(0, 1),
      Buffer.from('é').subarray(1),
      Buffer.from('b'),
    ]);
    const r = capped(bytes, 50, 4);
    expect(r.text.startsWith('a\n')).toBe(true);
    expect(r.text.endsWith('\nb')).toBe(true);
  });
});
