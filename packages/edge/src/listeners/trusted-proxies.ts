/**
 * `proxy.trust`: the load balancers and TLS terminators whose forwarding headers this edge
 * believes. Only a connection whose peer (after the PROXY protocol) lies in the list has
 * its `X-Forwarded-For` / `Forwarded` read, and then the client is the right-most hop that
 * is not itself a trusted proxy (caddy's strict mode): everything left of it was written by
 * that untrusted client and may be forged. Anything unreadable falls back to the peer.
 */

import { AddressBlocks } from './address-blocks.js';
import { forwardedChain } from './forwarded-chain.js';

/** Hops read from the right before giving up; a real chain has a handful. */
const MAX_HOPS = 64;

export class TrustedProxies {
  readonly #blocks: AddressBlocks;

  constructor(blocks: AddressBlocks) {
    this.#blocks = blocks;
  }

  /** From addresses and CIDR blocks; throws a RangeError naming the first bad entry. */
  static parse(entries: readonly string[]): TrustedProxies {
    return new TrustedProxies(AddressBlocks.parse(entries));
  }

  get size(): number {
    return this.#blocks.size;
  }

  /** Whether `address` is a trusted proxy. */
  trusts(address: string): boolean {
    return this.#blocks.contains(address);
  }

  /** The client behind `peer`, given the request's flat raw header list. */
  clientAddress(peer: string, rawHeaders: readonly string[]): string {
    if (!this.trusts(peer)) return peer;
    const hops = forwardedChain(rawHeaders);
    if (hops.length === 0) return peer;
    const stop = Math.max(0, hops.length - MAX_HOPS);
    for (let i = hops.length - 1; i >= stop; i--) {
      const hop = hops[i]!;
      if (hop === null) return peer;
      if (!this.trusts(hop) || i === 0) return hop;
    }
    return peer;
  }
}
