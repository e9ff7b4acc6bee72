/**
 * Natural order for names people number (`w-1, w-2, w-10`, not `w-1, w-10, w-2`): runs of digits compare
 * as numbers, everything else by code unit, so the order never depends on the locale.
 */
export function naturalCompare(a: string, b: string): number {
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p === q) continue;
    const bothNumbers = isDigits(p) && isDigits(q);
    if (bothNumbers) {
      // Compared as numbers without overflow: a longer run (without leading zeros) is larger.
      const [u, v] = [p.replace(/^0+(?=.)/, ''), q.replace(/^0+(?=.)/, '')];
      if (u.length !== v.length) return u.length - v.length;
      if (u !== v) return u < v ? -1 : 1;
      return p.length - q.length; // `01` after `1`: equal values, fewer zeros first
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function chunks(s: string): string[] {
  return s.match(/\d+|\D+/g) ?? [];
}

function isDigits(s: string): boolean {
  return s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57;
}
