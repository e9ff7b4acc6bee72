/**
 * This host's own IPv4 addresses, which an allowed name must never resolve to (loopback aside: it is
 * refused for names anyway).
 *
 * `os.networkInterfaces()` is not enough: it skips interfaces that are not running, and a Docker bridge
 * with no container attached is not running, though its address still reaches this host from any
 * container. Its answer would also change each time a network gains or loses its first container. The
 * kernel's local routing table lists every local address whatever the link state, so it is read first.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export function hostAddresses(): string[] {
  const fromKernel = localAddressesFromFibTrie(readOrEmpty('/proc/net/fib_trie'));
  const out = new Set(fromKernel);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.add(a.address);
  }
  return [...out].filter((a) => !a.startsWith('127.')).sort();
}

/** The addresses `/proc/net/fib_trie` marks `/32 host LOCAL`: each follows its `|-- ADDRESS` line. */
export function localAddressesFromFibTrie(text: string): string[] {
  const out = new Set<string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) last = leaf[1];
    else if (last && /\/32 host LOCAL/.test(line)) out.add(last);
  }
  return [...out];
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
