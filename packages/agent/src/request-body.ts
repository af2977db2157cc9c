/**
 * The viewer's request body, read from a stream, as a Readable for undici. Backpressure runs
 * end to end: when undici's buffer is full the stream is paused, which withholds flow-control
 * credit, which stops the edge, which stops reading the viewer's socket.
 */

import { Readable } from 'node:stream';
import type { MuxStream } from '@burrow/protocol';

/** True when the request has no body: OPEN carried FIN. */
export function requestHasNoBody(stream: MuxStream): boolean {
  return stream.noBody;
}

/** Bytes undici may hold before the stream is paused; the stream's window bounds the rest. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * Owns the stream's 'data' and 'end' for its lifetime. `destroy()` detaches and leaves the
 * stream flowing into nothing, so an unread rest of the body cannot stall the edge.
 */
export class RequestBody extends Readable {
  private readonly stream: MuxStream;

  private readonly onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.stream.pause();
  };

  private readonly onEnd = (): void => {
    this.push(null);
  };

  constructor(stream: MuxStream) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    this.stream = stream;
    // Nothing flows until undici asks for the first chunk.
    stream.pause();
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
  }

  override _read(): void {
    this.stream.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.resume();
    callback(err);
  }
}
