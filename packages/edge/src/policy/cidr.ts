/**
 * IPv4 and IPv6 addresses and CIDR blocks, and the allow/deny rule set built from them.
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports for an IPv4 peer)
 * is treated as the IPv4 address, so `--allow-ip 1.2.3.0/24` holds on every listener.
 */

import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** Dotted quad for IPv4 (mapped ones too), the input lower-cased without zone for IPv6. */
  readonly text: string;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address with the host bits cleared. */
  readonly bytes: Uint8Array;
  /** Number of leading bits that must match: 0..32 for IPv4, 0..128 for IPv6. */
  readonly prefix: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  let hex = text;
  // A trailing dotted quad stands for the last two 16-bit words.
  const lastColon = hex.lastIndexOf(':');
  if (hex.includes('.', lastColon)) {
    const [a, b, c, d] = ipv4Bytes(hex.slice(lastColon + 1));
    hex = `${hex.slice(0, lastColon + 1)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const headWords = words(head);
  const tailWords = tail === undefined ? [] : words(tail);
  const all = [
    ...headWords,
    ...new Array<number>(8 - headWords.length - tailWords.length).fill(0),
    ...tailWords,
  ];
  const bytes = new Uint8Array(16);
  all.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

function isMapped(bytes: Uint8Array): boolean {
  return MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/**
 * Parses a bare address, the form `socket.remoteAddress` has: IPv4, IPv6, IPv6 with a
 * `%zone` (dropped). IPv4-mapped IPv6 comes back as IPv4. Null if it is not an address.
 * IPv4 with leading zeros is refused: some tools read `010` as octal, others as decimal.
 */
export function parseIp(input: string): IpAddress | null {
  const text = input.trim().toLowerCase();
  if (isIPv4(text)) return { family: 4, bytes: ipv4Bytes(text), text };
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  if (!isIPv6(bare)) return null;
  const bytes = ipv6Bytes(bare);
  if (isMapped(bytes)) {
    const v4 = bytes.subarray(12);
    return { family: 4, bytes: Uint8Array.from(v4), text: v4.join('.') };
  }
  return { family: 6, bytes, text: bare };
}

function maskTo(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * Parses `addr/prefix` or a bare address (a single-host block). Host bits are cleared, as
 * routers do: `10.1.2.3/8` means `10.0.0.0/8`. A mapped IPv6 block of /96 or longer
 * becomes the IPv4 block it covers. Null if the text is not a valid block.
 */
export function parseCidr(input: string): Cidr | null {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  if (addrText.includes('%')) return null;
  const lower = addrText.toLowerCase();
  let family: 4 | 6;
  let bytes: Uint8Array;
  if (isIPv4(lower)) {
    family = 4;
    bytes = ipv4Bytes(lower);
  } else if (isIPv6(lower)) {
    family = 6;
    bytes = ipv6Bytes(lower);
  } else {
    return null;
  }
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  if (family === 6 && prefix >= 96 && isMapped(bytes)) {
    return { family: 4, bytes: maskTo(bytes.subarray(12), prefix - 96), prefix: prefix - 96 };
  }
  return { family, bytes: maskTo(bytes, prefix), prefix };
}

/** True if `ip` lies inside `cidr`; an IPv4 address never matches an IPv6 block or the reverse. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[whole]! & mask) === cidr.bytes[whole];
}

/**
 * The key a client is counted under by rate limits and brute-force tracking: the IPv4
 * address, or the IPv6 /64. One host usually holds a whole /64, so keying by /128 would
 * let a single attacker mint 2^64 fresh identities.
 */
export function clientKey(ip: IpAddress | null, rawAddress: string): string {
  if (ip === null) return `unparsed:${rawAddress}`;
  if (ip.family === 4) return ip.text;
  return `${Buffer.from(ip.bytes.subarray(0, 8)).toString('hex')}/64`;
}

/**
 * Allow and deny lists. Deny wins over allow; with a non-empty allow list, an address in
 * none of its blocks is denied; an address that cannot be parsed is denied whenever any
 * rule exists (fail closed).
 */
export class IpRules {
  readonly allow: readonly Cidr[];
  readonly deny: readonly Cidr[];

  constructor(allow: readonly Cidr[], deny: readonly Cidr[]) {
    this.allow = allow;
    this.deny = deny;
  }

  get isEmpty(): boolean {
    return this.allow.length === 0 && this.deny.length === 0;
  }

  allows(ip: IpAddress | null): boolean {
    if (this.isEmpty) return true;
    if (ip === null) return false;
    if (this.deny.some((c) => cidrContains(c, ip))) return false;
    return this.allow.length === 0 || this.allow.some((c) => cidrContains(c, ip));
  }
}
