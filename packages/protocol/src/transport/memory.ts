/**
 * Two transports joined back to back in memory, for tests. Delivery is asynchronous
 * (a macrotask later) so ordering and re-entrancy behave as they do over a socket.
 */

import type { Transport, TransportHandlers } from './transport.js';

class MemoryTransport implements Transport {
  readonly remoteAddress: string;
  peer: MemoryTransport | null = null;
  handlers: TransportHandlers | null = null;
  private pending: Buffer[] = [];
  private scheduled = false;
  private closed = false;
  bufferedAmount = 0;

  constructor(remoteAddress: string) {
    this.remoteAddress = remoteAddress;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  send(data: Buffer): void {
    if (this.closed) return;
    this.pending.push(Buffer.from(data));
    this.bufferedAmount += data.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  sendAll(data: readonly Buffer[]): void {
    for (const chunk of data) this.send(chunk);
  }

  private deliver(): void {
    this.scheduled = false;
    const chunks = this.pending;
    this.pending = [];
    this.bufferedAmount = 0;
    for (const chunk of chunks) if (!this.closed) this.peer?.handlers?.onData(chunk);
    this.handlers?.onDrain();
  }

  close(): void {
    if (this.closed) return;
    setImmediate(() => {
      this.deliver();
      this.end(undefined);
    });
  }

  destroy(): void {
    this.end(undefined);
  }

  private end(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.handlers?.onClose(err);
    const peer = this.peer;
    if (peer && !peer.closed) setImmediate(() => peer.end(new Error('peer closed')));
  }
}

/** A connected pair: bytes sent on one arrive at the other. */
export function createMemoryTransportPair(): [Transport, Transport] {
  const a = new MemoryTransport('memory:a');
  const b = new MemoryTransport('memory:b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
