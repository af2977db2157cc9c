/**
 * The viewer's request body into the stream, under its credit window: the viewer's socket
 * is paused while the window is shut. A body that sends nothing for `idleMs` while we are
 * reading fails the exchange with TUN_ERR_BODY_TIMEOUT (slow-body attacks).
 */

import type { IncomingMessage } from 'node:http';
import { TunnelError, type MuxStream, type Timers } from '@burrow/protocol';

export class RequestBody {
  private idle: unknown = null;
  private abandoned = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly stream: MuxStream,
    private readonly timers: Timers,
    private readonly idleMs: number,
    private readonly fail: (err: TunnelError) => void,
  ) {
    this.arm();
    req.on('data', (chunk: Buffer) => {
      if (this.abandoned) return;
      if (stream.write(chunk)) this.arm();
      else {
        timers.clearTimeout(this.idle);
        req.pause();
      }
    });
    stream.on('drain', () => {
      if (this.abandoned) return;
      this.arm();
      req.resume();
    });
    req.once('end', () => {
      timers.clearTimeout(this.idle);
      if (!this.abandoned) stream.end();
    });
    req.once('close', () => timers.clearTimeout(this.idle));
  }

  /** Reads and drops the rest: the exchange failed, the viewer must not sit on its upload. */
  abandon(): void {
    this.abandoned = true;
    this.timers.clearTimeout(this.idle);
    this.idle = null;
    this.req.resume();
  }

  /** Idle only counts while we are reading: a paused body (no credit) is our wait, not the viewer's. */
  private arm(): void {
    this.timers.clearTimeout(this.idle);
    this.idle = this.timers.setTimeout(() => {
      const err = new TunnelError('TUN_ERR_BODY_TIMEOUT', `no request body bytes for ${this.idleMs} ms`);
      this.stream.reset(err);
      this.fail(err);
      this.req.socket.destroySoon();
    }, this.idleMs);
  }
}
