/**
 * The engine's multiplexed stream format (exec and logs of a container without a TTY): frames of an
 * 8-byte header (stream type, 3 zero bytes, big-endian payload length) followed by the payload. Payload
 * pieces are handed on as they arrive (subarrays, no copy, no waiting for a whole frame), so unbounded
 * output is never buffered here: at most the 8 bytes of a header split across reads.
 */
export type StreamName = 'stdout' | 'stderr';

const HEADER = 8;

export class Demultiplexer {
  private readonly header = Buffer.alloc(HEADER);
  private headerFilled = 0;
  /** Payload bytes still to come in the current frame. */
  private remaining = 0;
  private stream: StreamName = 'stdout';

  constructor(private readonly onChunk: (stream: StreamName, chunk: Buffer) => void) {}

  push(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, data.length - off);
        this.remaining -= n;
        this.onChunk(this.stream, data.subarray(off, off + n));
        off += n;
        continue;
      }
      if (this.headerFilled === 0 && data.length - off >= HEADER) {
        this.startFrame(data[off]!, data.readUInt32BE(off + 4));
        off += HEADER;
        continue;
      }
      // A header split across reads: collect its bytes.
      const n = Math.min(HEADER - this.headerFilled, data.length - off);
      data.copy(this.header, this.headerFilled, off, off + n);
      this.headerFilled += n;
      off += n;
      if (this.headerFilled === HEADER) {
        this.headerFilled = 0;
        this.startFrame(this.header[0]!, this.header.readUInt32BE(4));
      }
    }
  }

  /** True when the input stopped in the middle of a frame (a truncated stream). */
  get incomplete(): boolean {
    return this.headerFilled > 0 || this.remaining > 0;
  }

  private startFrame(type: number, length: number): void {
    // 0 is stdin echoed back, which the engine writes on stdout; 3 is the engine's own error stream.
    this.stream = type === 2 || type === 3 ? 'stderr' : 'stdout';
    this.remaining = length;
  }
}
