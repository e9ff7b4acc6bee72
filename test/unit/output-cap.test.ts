import { describe, expect, it } from 'vitest';
import { OutputCap } from '../../src/ops/output-cap.js';

describe('OutputCap', () => {
  it('keeps everything under the limit', () => {
    const c = new OutputCap(10);
    c.push(Buffer.from('abc'));
    c.push(Buffer.from('def'));
    expect(c.text()).toBe('abcdef');
    expect(c.truncated).toBe(false);
    expect(c.total).toBe(6);
  });

  it('keeps exactly the limit, counts the rest and says it truncated', () => {
    const c = new OutputCap(5);
    c.push(Buffer.from('abc'));
    c.push(Buffer.from('defgh'));
    c.push(Buffer.from('ijk'));
    expect(c.bytes().toString()).toBe('abcde');
    expect(c.total).toBe(11);
    expect(c.truncated).toBe(true);
  });

  it('output of exactly the limit is not truncated', () => {
    const c = new OutputCap(3);
    c.push(Buffer.from('abc'));
    expect(c.truncated).toBe(false);
    c.push(Buffer.alloc(0));
    expect(c.truncated).toBe(false);
  });

  it('a limit of 0 keeps nothing but still counts', () => {
    const c = new OutputCap(0);
    c.push(Buffer.from('abc'));
    expect(c.bytes().length).toBe(0);
    expect(c.text()).toBe('');
    expect(c.truncated).toBe(true);
  });

  it('copies what it keeps: the reader may reuse its buffers', () => {
    const buf = Buffer.from('hello');
    const c = new OutputCap(10);
    c.push(buf);
    buf.fill('x');
    expect(c.text()).toBe('hello');
  });

  it('decodes invalid UTF-8 to replacement characters instead of failing', () => {
    const c = new OutputCap(100);
    c.push(Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0x20, 0xc3]));
    expect(c.text()).toBe('ok \uFFFD\uFFFD \uFFFD');
  });

  it('drops a character the limit cut in two rather than inventing a replacement character', () => {
    const c = new OutputCap(4);
    c.push(Buffer.from('abcé')); // é is 2 bytes: the limit keeps its first
    expect(c.bytes()).toEqual(Buffer.from([0x61, 0x62, 0x63, 0xc3]));
    expect(c.text()).toBe('abc');
  });

  it('reset forgets everything', () => {
    const c = new OutputCap(2);
    c.push(Buffer.from('abc'));
    c.reset();
    expect([c.text(), c.total, c.truncated]).toEqual(['', 0, false]);
  });
});
