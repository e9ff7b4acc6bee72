/**
 * Reads the supervisor's control stream (the session exec's stdout): frames that start with
 * `\n<token> <type> ...\n`, where the token is the session key (hello) or the current call's nonce,
 * followed by a body whose length the header gives. Bytes outside an expected frame are junk (a
 * process that wrote to the stream on purpose) and are skipped; see scripts.ts for the threat model.
 */
export interface Frame {
  type: string;
  /** The header's fields after the type; the last one is the rest of the line. */
  fields: string[];
  body: Buffer;
}

interface Waiter {
  token: string;
  /** How many fields the header has (the last takes the rest of the line). */
  fieldCount: number;
  bodyLength(type: string, fields: string[]): number;
  resolve(frame: Frame): void;
}

/** Longest header we accept: the fields plus a cwd (PATH_MAX). */
const MAX_HEADER = 8192;

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiter?: Waiter;
  private header?: { type: string; fields: string[]; length: number };
  private body: Buffer[] = [];
  private bodyHave = 0;

  /** Waits for the next frame carrying `token`. One waiter at a time (calls are serialized). */
  expect(token: string, fieldCount: number, bodyLength: Waiter['bodyLength']): Promise<Frame> {
    return new Promise((resolve) => {
      this.waiter = { token, fieldCount, bodyLength, resolve };
      this.header = undefined;
      this.body = [];
      this.bodyHave = 0;
      this.drain();
    });
  }

  /** Stops waiting (the call was abandoned); what arrives for it later is junk. */
  cancel(): void {
    this.waiter = undefined;
    this.header = undefined;
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.drain();
  }

  private drain(): void {
    const w = this.waiter;
    if (!w) {
      // Keep only what could be the start of a frame that a later waiter wants.
      if (this.buf.length > MAX_HEADER) this.buf = this.buf.subarray(this.buf.length - MAX_HEADER);
      return;
    }
    if (!this.header) {
      const marker = Buffer.from(`\n${w.token} `, 'latin1');
      const at = this.buf.indexOf(marker);
      if (at < 0) {
        if (this.buf.length > marker.length) this.buf = this.buf.subarray(this.buf.length - marker.length);
        return;
      }
      const eol = this.buf.indexOf(0x0a, at + marker.length);
      if (eol < 0) {
        if (this.buf.length - at > MAX_HEADER) this.buf = this.buf.subarray(at + 1);
        else this.buf = this.buf.subarray(at);
        return;
      }
      const line = this.buf.toString('utf8', at + marker.length, eol);
      this.buf = this.buf.subarray(eol + 1);
      const parts = line.split(' ');
      const type = parts[0] ?? '';
      const n = w.fieldCount;
      const fields = [...parts.slice(1, n), parts.slice(n).join(' ')];
      this.header = { type, fields, length: w.bodyLength(type, fields) };
    }
    const need = this.header.length - this.bodyHave;
    if (need > 0 && this.buf.length > 0) {
      const take = this.buf.subarray(0, Math.min(need, this.buf.length));
      this.body.push(Buffer.from(take));
      this.bodyHave += take.length;
      this.buf = this.buf.subarray(take.length);
    }
    if (this.bodyHave < this.header.length) return;
    const frame: Frame = {
      type: this.header.type,
      fields: this.header.fields,
      body: Buffer.concat(this.body, this.bodyHave),
    };
    this.waiter = undefined;
    this.header = undefined;
    this.body = [];
    this.bodyHave = 0;
    w.resolve(frame);
  }
}
