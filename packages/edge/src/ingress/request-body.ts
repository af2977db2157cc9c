/**
 * The viewer's request body into the stream through the shared pipe, under its credit
 * window: the viewer's socket is paused while the window is shut. A body that sends nothing
 * for `idleMs` while we are reading fails the exchange with TUN_ERR_BODY_TIMEOUT (slow-body
 * attacks); time paused for credit is our wait, not the viewer's, and does not count.
 */

import type { IncomingMessage } from 'node:http';
import { pumpIntoStream, TunnelError, type MuxStream, type Pump, type Timers } from '@burrow/protocol';
import { closeUploadAfterAnswer } from './http2-request.js';

export class RequestBody {
  private readonly pump: Pump;

  constructor(
    private readonly req: IncomingMessage,
    stream: MuxStream,
    timers: Timers,
    idleMs: number,
    fail: (err: TunnelError) => void,
  ) {
    this.pump = pumpIntoStream(req, stream, {
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

  /** Reads and drops the rest: the exchange failed, the viewer must not sit on its upload. */
  abandon(): void {
    this.pump.stop();
    this.req.resume();
  }
}
