/**
 * Turning the bytes a result frame carries back into text: whole outputs decode as they are; capped
 * ones are a head and a tail, joined by a line that says how much was left out and where all of it is.
 */
import { StringDecoder } from 'node:string_decoder';

export interface CappedText {
  text: string;
  truncated: boolean;
}

/** `sent` holds all `total` bytes, or (total > cap) the first cap/2 and the last cap - cap/2. */
export function capped(sent: Buffer, total: number, cap: number, fullPath?: string): CappedText {
  if (total <= cap) return { text: sent.toString('utf8'), truncated: false };
  const h = Math.floor(cap / 2);
  // Characters cut in two at either edge are dropped rather than shown as U+FFFD.
  const head = new StringDecoder('utf8').write(sent.subarray(0, h));
  let tail = sent.subarray(h);
  for (let i = 0; i < 3 && tail.length > 0 && (tail[0]! & 0xc0) === 0x80; i++) tail = tail.subarray(1);
  const where = fullPath ? `; all of it is in ${fullPath}` : '';
  const note = `\n[... ${total - cap} of ${total} bytes omitted${where} ...]\n`;
  return { text: `${head}${note}${tail.toString('utf8')}`, truncated: true };
}
