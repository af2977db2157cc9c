/**
 * A hand-driven peer for tests: it holds one end of a transport, sends whatever bytes or
 * frames a test crafts, and records every frame the other side sends (payloads copied).
 * Test-only support, used to feed a Session input a well-behaved peer never produces.
 */

import { FrameDecoder } from '../decoder.js';
import { encodeFrame, MAX_PAYLOAD_HARD_LIMIT, type FrameType } from '../frame.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';

export interface RecordedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

export class RawPeer {
  readonly frames: RecordedFrame[] = [];
  closed = false;
  closeError: Error | undefined;
  private readonly transport: Transport;
  private readonly decoder = new FrameDecoder({
    maxPayload: MAX_PAYLOAD_HARD_LIMIT,
    onFrame: (f) => this.frames.push({ ...f, payload: Buffer.from(f.payload) }),
  });

  constructor(transport: Transport) {
    this.transport = transport;
    const handlers: TransportHandlers = {
      onData: (chunk) => this.decoder.push(chunk),
      onDrain: () => {},
      onClose: (err) => {
        this.closed = true;
        this.closeError = err;
      },
    };
    transport.attach(handlers);
  }

  sendBytes(bytes: Buffer): void {
    this.transport.send(bytes);
  }

  send(type: FrameType, flags: number, streamId: number, payload?: Uint8Array | object): void {
    const body = payload === undefined || payload instanceof Uint8Array ? payload : jsonBytes(payload);
    this.transport.send(encodeFrame(type, flags, streamId, body));
  }

  /** Frames of one type received so far; JSON payloads can be read with `json()`. */
  framesOf(type: FrameType): RecordedFrame[] {
    return this.frames.filter((f) => f.type === type);
  }

  close(): void {
    this.transport.close();
  }
}

export function jsonBytes(value: object): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function json(frame: RecordedFrame): unknown {
  return JSON.parse(frame.payload.toString('utf8'));
}
