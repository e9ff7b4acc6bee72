import { describe, expect, it } from 'vitest';
import { hostAddresses, localAddressesFromFibTrie } from '../../src/egress/host-addresses.js';

// The shape of /proc/net/fib_trie: a bridge that is down (no container attached) is listed like any other.
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
     +-- 172.17.0.0/16 2 0 2
        |-- 172.17.0.0
           /16 link UNICAST
        |-- 172.17.0.1
           /32 host LOCAL
        |-- 172.17.255.255
           /32 link BROADCAST
     |-- 192.0.2.2
        /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 172.17.0.1
        /32 host LOCAL
`;

describe("the host's own addresses", () => {
  it('reads every /32 host LOCAL address of the kernel table, once, broadcast and networks aside', () => {
    expect(localAddressesFromFibTrie(FIB_TRIE).sort()).toEqual(['127.0.0.1', '172.17.0.1', '192.0.2.2']);
  });

  it('has nothing to read in an empty table', () => {
    expect(localAddressesFromFibTrie('')).toEqual([]);
  });

  it("lists this machine's addresses without loopback, sorted", () => {
    const list = hostAddresses();
    expect(list.some((a) => a.startsWith('127.'))).toBe(false);
    expect([...list].sort()).toEqual(list);
  });
});
