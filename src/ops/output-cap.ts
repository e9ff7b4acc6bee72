/**
 * Captures one output stream up to a byte limit and counts (then drops) the rest, so a command that
 * floods its output costs bounded memory however long it runs.
 */
import { StringDecoder } from 'node:string_decoder';

export class OutputCap {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  total = 0;

  constructor(readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.maxBytes - this.kept;
    if (room <= 0 || chunk.length === 0) return;
    // A copy: the chunk may be a small view into a large socket buffer we must not keep alive.
    const piece = Buffer.from(chunk.subarray(0, Math.min(room, chunk.length)));
    this.chunks.push(piece);
    this.kept += piece.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
  }

  /**
   * UTF-8 text; invalid bytes become U+FFFD, never an exception. When the limit cut a character in two,
   * its first bytes are dropped rather than shown as a replacement character that was never output.
   */
  text(): string {
    const bytes = this.bytes();
    return this.truncated ? new StringDecoder('utf8').write(bytes) : bytes.toString('utf8');
  }

  reset(): void {
    this.chunks.length = 0;
    this.kept = 0;
    this.total = 0;
  }
}
