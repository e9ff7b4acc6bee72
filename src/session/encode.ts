/**
 * Payloads on the session protocol travel as one space-free line that the supervisor turns back into
 * bytes with `printf %b` (a builtin in every sh): bytes that are printable ASCII stay as they are,
 * and every other byte, plus space and backslash, becomes a `\0ooo` octal escape. Bytes >= 0x80 are
 * escaped too, so a shell reading the line in any locale sees only ASCII.
 */
export function encodeForShell(data: string | Buffer): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let out = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b > 0x20 && b < 0x7f && b !== 0x5c) continue;
    if (i > start) out += bytes.toString('latin1', start, i);
    out += `\\0${b.toString(8).padStart(3, '0')}`;
    start = i + 1;
  }
  if (start < bytes.length) out += bytes.toString('latin1', start);
  // printf '%b' of an empty argument: read(1) leaves an empty last field as ''.
  return out;
}
