/**
 * Carries session bytes over a `ws` WebSocket, either side. Each transport write is one
 * binary message; message boundaries carry no meaning (the decoder reassembles frames).
 * Backpressure comes from ws's bufferedAmount: onDrain fires from send callbacks once
 * the queue falls under the low-water mark.
 */

import WebSocket from 'ws';
import type { Transport, TransportHandlers } from './transport.js';

/** WebSocket subprotocol naming the framing, checked at upgrade time before any frame. */
export const WEBSOCKET_SUBPROTOCOL = 'burrow.v1';

/** Largest WebSocket message a session produces for a given frame payload limit. */
export function websocketMaxPayload(maxFramePayload: number): number {
  return Math.max(64 * 1024, maxFramePayload + 12) + 1024;
}

/** The socket under a WebSocket, as far as batching writes needs it. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class WebSocketTransport implements Transport {
  readonly remoteAddress: string;
  private readonly ws: WebSocket;
  private readonly socket: Corkable | undefined;
  private readonly lowWaterMark: number;
  private handlers: TransportHandlers | null = null;
  private error: Error | undefined;
  private readonly afterSend = (err?: Error): void => {
    if (err || !this.handlers) return;
    if (this.ws.bufferedAmount <= this.lowWaterMark) this.handlers.onDrain();
  };

  /**
   * `socket` is the connection under `ws`; with it, sendAll() corks the socket so that
   * several messages leave in one writev (ws writes synchronously, so order is kept).
   */
  constructor(ws: WebSocket, options: { remoteAddress: string; lowWaterMark?: number; socket?: Corkable }) {
    this.ws = ws;
    this.socket = options.socket;
    this.remoteAddress = options.remoteAddress;
    this.lowWaterMark = options.lowWaterMark ?? 1024 * 1024;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      if (Buffer.isBuffer(data)) handlers.onData(data);
      else if (Array.isArray(data)) for (const part of data) handlers.onData(part);
      else handlers.onData(Buffer.from(data));
    });
    this.ws.on('error', (err) => {
      this.error = err;
    });
    this.ws.on('close', (code, reason) => {
      const clean = code === 1000 || code === 1001;
      handlers.onClose(
        this.error ??
          (clean ? undefined : new Error(`websocket closed with code ${code} ${reason.toString()}`)),
      );
    });
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(data, { binary: true }, this.afterSend);
  }

  sendAll(data: readonly Buffer[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (data.length === 1 || !this.socket) {
      for (const chunk of data) this.ws.send(chunk, { binary: true }, this.afterSend);
      return;
    }
    this.socket.cork();
    try {
      const last = data.length - 1;
      for (let i = 0; i < last; i++) this.ws.send(data[i]!, { binary: true });
      this.ws.send(data[last]!, { binary: true }, this.afterSend);
    } finally {
      // A socket left corked would hold every later write back without a sign.
      this.socket.uncork();
    }
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}
