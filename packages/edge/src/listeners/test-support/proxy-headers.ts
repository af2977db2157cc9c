/** PROXY protocol headers as load balancers write them, for tests of the reader. */

import { isIPv4 } from 'node:net';
import { parseIp } from '../../policy/cidr.js';

/** A version 1 line: `PROXY <fields>\r\n`. */
export function proxyV1(fields: string): Buffer {
  return Buffer.from(`PROXY ${fields}\r\n`, 'latin1');
}

export interface V2Options {
  command?: 'proxy' | 'local';
  /** The client address; its family picks TCP4 or TCP6 (destination: the same family's loopback). */
  source?: string;
  port?: number;
  tlvs?: Buffer;
}

/** A version 2 header (spec section 2.2), TCP over IPv4 or IPv6. */
export function proxyV2(options: V2Options = {}): Buffer {
  const source = options.source ?? '127.0.0.1';
  const v4 = isIPv4(source);
  const bytes = parseIp(source)!.bytes;
  const block = Buffer.alloc(v4 ? 12 : 36);
  Buffer.from(bytes).copy(block, 0);
  if (v4) block.set([127, 0, 0, 1], 4);
  else block[31] = 1;
  block.writeUInt16BE(options.port ?? 1234, v4 ? 8 : 32);
  block.writeUInt16BE(443, v4 ? 10 : 34);
  const tlvs = options.tlvs ?? Buffer.alloc(0);
  const head = Buffer.from([
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0, 0, 0, 0,
  ]);
  head[12] = options.command === 'local' ? 0x20 : 0x21;
  head[13] = v4 ? 0x11 : 0x21;
  head.writeUInt16BE(block.length + tlvs.length, 14);
  return Buffer.concat([head, block, tlvs]);
}
