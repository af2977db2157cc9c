/**
 * What a session needs from whatever carries its bytes: an ordered, reliable byte pipe.
 * Frame boundaries need not survive the transport; the decoder reassembles them.
 * WebSocket is the first implementation; a long-poll transport only has to satisfy this.
 */

export interface TransportHandlers {
  /** Bytes from the peer, in order. The chunk may be retained by the receiver. */
  onData(chunk: Buffer): void;
  /** Called when bufferedAmount falls back under the low-water mark after being high. */
  onDrain(): void;
  /** Called once when the transport is gone, with the reason if it was not a clean close. */
  onClose(err?: Error): void;
}

export interface Transport {
  /** Installs handlers; called once by the session before any data flows. */
  attach(handlers: TransportHandlers): void;
  /** Queues bytes for the peer. Never throws once closed; bytes are then dropped. */
  send(data: Buffer): void;
  /**
   * Queues several buffers, in order, as one write to the network (one syscall where the
   * transport can cork). The buffers are kept, not copied, until written.
   */
  sendAll(data: readonly Buffer[]): void;
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Flushes what is queued, then closes. */
  close(): void;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
  /** The peer's address, for logs and the session record. */
  readonly remoteAddress: string;
}
