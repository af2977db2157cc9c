/**
 * An `Upgrade` request (WebSocket) through a tunnel. The agent answers with the origin's
 * head; on 101 the stream becomes a raw two-way byte pipe, so frames, close codes and
 * extensions pass through untouched. Any other answer is relayed and the socket closed.
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeDuplex, TunnelError, type MuxStream, type PipeStats, type ResponseHead } from '@burrow/protocol';
import { Exchange, type ExchangeDeps } from './exchange.js';
import { admit, refusalHeaders, type Admitted } from './policy-gate.js';
import { formatResponseHead, writeRawFailure } from './raw-response.js';
import { ViewerPresence } from './resolve-target.js';
import type { TunnelRequest } from './tunnel-request.js';

export class UpgradeExchange extends Exchange {
  private headWritten = false;
  /** What the viewer got (its record's status): 0 until a head or page went out. */
  private status = 0;
  private errorCode: string | null = null;
  /** Bytes each way through the pipe after the head; null before it. */
  private piped: PipeStats | null = null;

  constructor(
    deps: ExchangeDeps,
    req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    request: TunnelRequest,
    onError: (err: unknown) => void,
  ) {
    super(deps, req, request, onError);
  }

  protected async run(): Promise<void> {
    const { deps, req, socket, request } = this;
    socket.on('error', () => socket.destroy());
    if (deps.observer != null) socket.once('close', () => this.recordOutcome());
    socket.pause();
    const viewer = new ViewerPresence(socket, () => false);
    const secure = request.secure || deps.proto === 'https';
    const gate = admit(request.policy, req, request.route, secure, { upgrade: true });
    if ('refused' in gate) {
      const { refused } = gate;
      // Set before the delay: a guesser that hangs up during it is still recorded as refused.
      this.errorCode = refused.code;
      if (refused.delayMs > 0) await this.delay(refused.delayMs);
      const out = [...refusalHeaders(refused, request.requestId), 'Connection', 'close'];
      if (socket.destroyed) return;
      this.status = refused.status;
      if (this.capture !== null) this.capture.responseHeaders = out;
      socket.end(formatResponseHead(refused.status, '', out) + refused.body);
      return;
    }
    const stream = await this.openStream(viewer);
    if (stream !== null) this.forward(stream, gate.admitted);
  }

  private forward(stream: MuxStream, admitted: Admitted): void {
    const { socket } = this;
    this.sendHead(stream, admitted, { fin: false, upgrade: true });
    if (this.head.length > 0) stream.write(this.head);
    this.armAnswerTimeout(stream, upgradeTimeoutMessage);
    stream.once(
      'head',
      this.guard((response: ResponseHead) => this.onHead(stream, response, admitted)),
    );
    stream.once('reset', (err: TunnelError) => {
      this.clearAnswerTimeout();
      this.fail(err);
    });
    socket.once('close', () => {
      this.clearAnswerTimeout();
      stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
    });
  }

  private onHead(stream: MuxStream, response: ResponseHead, admitted: Admitted): void {
    this.clearAnswerTimeout();
    const out = this.viewerHead(stream, response, admitted, true);
    if (out === null) return;
    if (out.status !== 101) out.headers.push('Connection', 'close');
    // latin1: header values are byte strings (obs-text included), not UTF-8 text.
    this.socket.write(formatResponseHead(out.status, out.reason, out.headers), 'latin1');
    this.headWritten = true;
    this.status = out.status;
    if (out.status === 101) this.deps.observer?.upgraded?.(this.request.route.name);
    // The shared pipe: backpressure each way, either side's end half-closes the other, a
    // reset destroys the socket. The upgrade's head bytes went out right after OPEN.
    this.piped = pipeDuplex(stream, this.socket, {
      toError: () => new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'),
    });
  }

  /** Before the head the viewer can still get a readable error; after it, only a cut. */
  protected fail(err: TunnelError): void {
    this.errorCode ??= err.code;
    if (this.headWritten) {
      this.socket.destroy();
      return;
    }
    if (!this.socket.destroyed) this.status = err.status;
    writeRawFailure(this.socket, err, this.req.headers.accept, this.request.requestId);
  }

  /** At the viewer socket's close: its one record (bytes are the pipe's, after the head). */
  private recordOutcome(): void {
    // Gone before it had an answer: the edge cut the stream for it.
    if (this.status === 0) this.errorCode ??= 'TUN_ERR_STREAM_CANCELLED';
    this.report(
      {
        status: this.status,
        errorCode: this.errorCode,
        bytesIn: this.piped?.toStream ?? 0,
        bytesOut: this.piped?.fromStream ?? 0,
      },
      true,
    );
  }
}

function upgradeTimeoutMessage(): string {
  return 'the local service did not answer the upgrade in time';
}
