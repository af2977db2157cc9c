/**
 * A connection's client address as the transport knows it: the source a PROXY protocol
 * header named, else the socket's own peer. The header is read on the raw TCP socket, but
 * HTTP may see a TLSSocket wrapping it (or HTTP/2's proxy of that), so the lookup follows
 * `_parent`, the raw socket Node's TLSSocket keeps, a bounded number of steps.
 */

import type { Socket } from 'node:net';

const fromHeader = new WeakMap<object, string>();

/** Records the address a PROXY header gave for `socket` (the raw one the header came on). */
export function rememberPeerAddress(socket: Socket, address: string): void {
  fromHeader.set(socket, address);
}

/** Wrappers between what HTTP sees and the raw socket: TLSSocket, HTTP/2's socket proxy. */
const MAX_WRAPPERS = 3;

export function peerAddressOf(socket: Socket): string {
  let current: unknown = socket;
  for (let depth = 0; depth <= MAX_WRAPPERS && typeof current === 'object' && current !== null; depth++) {
    const found = fromHeader.get(current);
    if (found !== undefined) return found;
    current = (current as { _parent?: unknown })._parent;
  }
  return socket.remoteAddress ?? '';
}
