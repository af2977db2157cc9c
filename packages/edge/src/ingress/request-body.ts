/**
 * The viewer's request body into the stream through the shared pipe, under its credit
 * window: the viewer's socket is paused while the window is shut. A body that sends nothing
 * for `idleMs` while we are reading fails the exchange with TUN_ERR_BODY_TIMEOUT (slow-body
 * attacks); time paused for credit is our wait, not the viewer's, and does not count.
 */

import type { IncomingMessage } from 'node:http';
import { pumpIntoStream, TunnelError, type MuxStream, type Pump, type Timers } from '@burrow/protocol';
import type { BodyCapture } from './exchange-capture.js';
import { closeUploadAfterAnswer } from './http2-request.js';

export interface RequestBodyOptions {
  timers: Timers;
  /** The body is cut with TUN_ERR_BODY_TIMEOUT after this long without a byte. */
  idleMs: number;
  /** Keeps the first bytes for the record (policy capture); null: nothing is copied. */
  capture: BodyCapture | null;
}

export class RequestBody {
  private readonly pump: Pump;

  constructor(
    private readonly req: IncomingMessage,
    stream: MuxStream,
    options: RequestBodyOptions,
    fail: (err: TunnelError) => void,
  ) {
    const { timers, idleMs, capture } = options;
    this.pump = pumpIntoStream(req, stream, {
      onChunk:
        capture === null
          ? undefined
          : (chunk) => {
              capture.add(chunk);
              return true;
            },
      idle: {
        ms: idleMs,
        timers,
        onIdle: () => {
          const err = new TunnelError('TUN_ERR_BODY_TIMEOUT', `no request body bytes for ${idleMs} ms`);
          stream.reset(err);
          fail(err);
          closeUploadAfterAnswer(req);
        },
      },
      toError: () => new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'),
    });
  }

  /** Body bytes handed to the stream so far. */
  get bytes(): number {
    return this.pump.stats.toStream;
  }

  /** The rest was read and dropped: the agent did not get the whole body. */
  abandoned = false;

  /** Reads and drops the rest: the exchange failed, the viewer must not sit on its upload. */
  abandon(): void {
    this.abandoned = true;
    this.pump.stop();
    this.req.resume();
  }
}
