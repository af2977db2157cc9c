/** A list of IP addresses and CIDR blocks that an address is checked against (`proxy.trust`, `proxy.protocolFrom`). */

import { cidrContains, parseCidr, parseIp, type Cidr } from '../policy/cidr.js';

export class AddressBlocks {
  readonly #blocks: readonly Cidr[];

  private constructor(blocks: readonly Cidr[]) {
    this.#blocks = blocks;
  }

  /** From addresses and CIDR blocks; throws a RangeError naming the first bad entry. */
  static parse(entries: readonly string[]): AddressBlocks {
    return new AddressBlocks(
      entries.map((entry) => {
        const block = parseCidr(entry);
        if (block === null) throw new RangeError(`"${entry}" is not an IP address or CIDR block`);
        return block;
      }),
    );
  }

  get size(): number {
    return this.#blocks.length;
  }

  /** Whether `address` (as `socket.remoteAddress` or a header hop gives it) lies in a block. */
  contains(address: string): boolean {
    if (this.#blocks.length === 0) return false;
    const ip = parseIp(address);
    return ip !== null && this.#blocks.some((block) => cidrContains(block, ip));
  }
}
