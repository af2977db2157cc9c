/**
 * The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2) that a load
 * balancer writes at the start of a TCP connection to say whose connection it is. Parsed
 * from the bytes received so far: callers feed the growing prefix until it is complete or
 * invalid. Pure: no sockets, no timers.
 */

import { isIPv4, isIPv6 } from 'node:net';

/** Version 1 is one text line of at most 107 bytes, CRLF included (spec section 2.1). */
export const PROXY_V1_MAX_BYTES = 107;

/**
 * Longest version 2 header accepted: 16 fixed bytes + 216 (the largest address block, two
 * unix paths) + room for TLVs (AWS, haproxy SSL info). The spec's length field allows 64 KiB;
 * nothing sends that much, and a header this edge must buffer has to be bounded.
 */
export const PROXY_V2_MAX_BYTES = 16 + 216 + 1816;

/** `\r\n\r\n\0\r\nQUIT\n`: the 12 bytes every version 2 header starts with. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

export interface ProxiedAddress {
  readonly address: string;
  readonly port: number;
}

export interface ProxyHeader {
  readonly version: 1 | 2;
  /**
   * The client's address as the proxy saw it; null for LOCAL (the proxy's own health
   * check), `UNKNOWN` and families without an IP (unix, unspecified): the socket's peer
   * address stands then.
   */
  readonly source: ProxiedAddress | null;
}

export type ProxyHeaderParse =
  | { readonly state: 'incomplete' }
  | { readonly state: 'complete'; readonly header: ProxyHeader; readonly length: number }
  | { readonly state: 'invalid'; readonly reason: string };

const INCOMPLETE: ProxyHeaderParse = { state: 'incomplete' };

function invalid(reason: string): ProxyHeaderParse {
  return { state: 'invalid', reason };
}

/** True when `data` (possibly short) agrees with `prefix` as far as both go. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

/**
 * Parses the header at the start of `data`. `incomplete` means more bytes may make it
 * valid; anything that can no longer become a header is `invalid` at once, so garbage
 * is refused on its first bytes rather than at the deadline.
 */
export function parseProxyHeader(data: Buffer): ProxyHeaderParse {
  if (data.length === 0) return INCOMPLETE;
  if (startsLike(data, V2_SIGNATURE)) {
    return data.length < V2_SIGNATURE.length ? INCOMPLETE : parseV2(data);
  }
  if (startsLike(data, V1_PREFIX)) {
    return data.length < V1_PREFIX.length ? INCOMPLETE : parseV1(data);
  }
  return invalid('the connection did not start with a PROXY protocol header');
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function port(text: string): number | null {
  if (!PORT.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function parseV1(data: Buffer): ProxyHeaderParse {
  const end = data.subarray(0, PROXY_V1_MAX_BYTES).indexOf('\r\n');
  if (end === -1) {
    return data.length >= PROXY_V1_MAX_BYTES
      ? invalid(`PROXY v1 header longer than ${PROXY_V1_MAX_BYTES} bytes`)
      : INCOMPLETE;
  }
  const length = end + 2;
  const fields = data.subarray(V1_PREFIX.length, end).toString('latin1').split(' ');
  if (fields[0] === 'UNKNOWN') return { state: 'complete', header: { version: 1, source: null }, length };
  if (fields.length !== 5) return invalid('PROXY v1 header needs: protocol source destination ports');
  const [proto, src, dst, sport, dport] = fields as [string, string, string, string, string];
  const isFamily = proto === 'TCP4' ? isIPv4 : proto === 'TCP6' ? isIPv6 : null;
  if (isFamily === null) return invalid(`PROXY v1 protocol "${proto}" is not TCP4, TCP6 or UNKNOWN`);
  if (!isFamily(src) || !isFamily(dst)) return invalid(`PROXY v1 addresses are not ${proto} addresses`);
  const sourcePort = port(sport);
  if (sourcePort === null || port(dport) === null) return invalid('PROXY v1 ports must be 0-65535');
  return { state: 'complete', header: { version: 1, source: { address: src, port: sourcePort } }, length };
}

function ipv6Text(bytes: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i).toString(16));
  // The WHATWG URL parser prints IPv6 in RFC 5952 form (2001:db8::7), as logs and origins expect.
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1);
}

function parseV2(data: Buffer): ProxyHeaderParse {
  if (data.length < 16) return INCOMPLETE;
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header with version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`PROXY v2 header with unknown command ${command}`);
  const family = data[13]!;
  const length = 16 + data.readUInt16BE(14);
  if (length > PROXY_V2_MAX_BYTES) {
    return invalid(`PROXY v2 header of ${length} bytes; at most ${PROXY_V2_MAX_BYTES} are accepted`);
  }
  if (data.length < length) return INCOMPLETE;
  // LOCAL: the proxy speaking for itself; the address block (if any) is ignored by spec.
  if (command === 0) return { state: 'complete', header: { version: 2, source: null }, length };
  const block = data.subarray(16, length);
  // High nibble: address family; low nibble: 1 stream, 2 datagram. TLVs after the addresses are skipped.
  if (family === 0x11) {
    if (block.length < 12) return invalid('PROXY v2 TCP4 address block shorter than 12 bytes');
    const address = [...block.subarray(0, 4)].join('.');
    return {
      state: 'complete',
      header: { version: 2, source: { address, port: block.readUInt16BE(8) } },
      length,
    };
  }
  if (family === 0x21) {
    if (block.length < 36) return invalid('PROXY v2 TCP6 address block shorter than 36 bytes');
    const address = ipv6Text(block.subarray(0, 16));
    return {
      state: 'complete',
      header: { version: 2, source: { address, port: block.readUInt16BE(32) } },
      length,
    };
  }
  // UNSPEC and unix sockets carry no IP; UDP never reaches an HTTP listener.
  if (family === 0x00 || family === 0x31 || family === 0x32) {
    return { state: 'complete', header: { version: 2, source: null }, length };
  }
  return invalid(`PROXY v2 address family 0x${family.toString(16).padStart(2, '0')} is not TCP`);
}
