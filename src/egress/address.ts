/** Slots (host numbers in the egress network's subnet) <-> addresses. */
import { intToIpv4, ipv4ToInt } from './rules.js';

/** .1 is the bridge's own address on the host; the gateway takes .2; agents start at FIRST_AGENT_SLOT. */
export const GATEWAY_SLOT = 2;
export const FIRST_AGENT_SLOT = 10;

function parseSubnet(subnet: string): { base: number; size: number } | undefined {
  const [ip, bits] = subnet.split('/');
  const base = ipv4ToInt(ip ?? '');
  const n = Number(bits);
  if (base === undefined || !Number.isInteger(n) || n < 8 || n > 30) return undefined;
  return { base, size: 2 ** (32 - n) };
}

export function slotAddress(subnet: string, slot: number): string {
  const s = parseSubnet(subnet);
  if (!s || slot <= 0 || slot >= s.size - 1)
    throw new Error(`slot ${slot} does not fit the subnet ${subnet}`);
  return intToIpv4(s.base + slot);
}

/** The slot of `address` in `subnet`, or undefined when it is not in it. */
export function addressSlot(subnet: string, address: string): number | undefined {
  const s = parseSubnet(subnet);
  const ip = ipv4ToInt(address);
  if (!s || ip === undefined || ip < s.base || ip >= s.base + s.size) return undefined;
  return ip - s.base;
}

export function slotCount(subnet: string | undefined): number {
  const s = subnet ? parseSubnet(subnet) : undefined;
  return s ? s.size - 2 : 254;
}
