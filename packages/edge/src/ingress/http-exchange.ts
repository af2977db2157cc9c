/**
 * One viewer request through a tunnel: the head goes out in OPEN, the body streams as
 * DATA under the stream's credit window (the viewer's socket is paused while the window
 * is shut), and the response streams back the same way (the stream is paused while the
 * viewer's socket is full). Nothing is buffered whole.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pumpFromStream, TunnelError, type MuxStream, type Pump, type ResponseHead } from '@burrow/protocol';
import { errorPageFor, sendErrorPage, titleFor } from './error-page.js';
import { Exchange, type ExchangeDeps, type ForwardHead } from './exchange.js';
import { headerValue, type UpgradeOptions } from './headers.js';
import { hasRequestBody } from './http2-request.js';
import { admit, refusalHeaders, type Admitted, type RespondDecision } from './policy-gate.js';
import { RequestBody } from './request-body.js';
import { ViewerPresence } from './resolve-target.js';
import type { TunnelRequest } from './tunnel-request.js';
import { answeredByWarning } from './warning-gate.js';

/** A plain request, for the exchange's head check and record (one object for all). */
const NOT_UPGRADE: UpgradeOptions = { upgrade: false };

export class HttpExchange extends Exchange {
  private errorCode: string | null = null;
  private body: RequestBody | null = null;
  /** Body bytes the viewer may still get; null when the body runs until the stream ends. */
  private bodyLeft: number | null = null;
  private response: Pump | null = null;
  /**
   * A head with a body of known length waits for its first body byte, as Node would send it
   * anyway: until then a failure can still be a clear error page instead of a cut connection.
   */
  private pendingHead: ForwardHead | null = null;
  private readonly viewer = new ViewerPresence();

  constructor(
    deps: ExchangeDeps,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    request: TunnelRequest,
    onError: (err: unknown) => void,
  ) {
    super(deps, req, request, onError);
  }

  protected run(): Promise<void> | undefined {
    const { deps, req, res, request } = this;
    const viewer = this.viewer;
    res.on('close', () => this.onViewerClose());
    const gate = admit(request.policy, req, request.route, request.secure || deps.proto === 'https');
    if ('refused' in gate) return this.refuse(gate.refused, viewer);
    if (deps.anonymousWarning) return this.warnOrForward(viewer, gate.admitted);
    const stream = this.openStreamNow(viewer);
    if (stream === undefined) return this.waitAndForward(viewer, gate.admitted);
    this.forwardOrDrop(stream, gate.admitted);
    return undefined;
  }

  private refuse(refused: RespondDecision, viewer: ViewerPresence): Promise<void> | undefined {
    this.errorCode = refused.code;
    this.req.resume();
    // Wrong credentials are answered slowly: guessing gets expensive before it gets locked out.
    if (refused.delayMs > 0) return this.delay(refused.delayMs).then(() => this.sendRefusal(refused, viewer));
    this.sendRefusal(refused, viewer);
    return undefined;
  }

  private sendRefusal(refused: RespondDecision, viewer: ViewerPresence): void {
    if (viewer.gone) return;
    const headers = refusalHeaders(refused, this.request.requestId);
    if (this.capture !== null) this.capture.responseHeaders = headers;
    this.res.writeHead(refused.status, headers).end(refused.body);
  }

  private async warnOrForward(viewer: ViewerPresence, admitted: Admitted): Promise<void> {
    const { deps, req, res, request } = this;
    if (await answeredByWarning(deps, req, res, request, viewer)) return;
    await this.waitAndForward(viewer, admitted);
  }

  /** The slow path: no live target on arrival (a reconnect), or after the warning gate. */
  private async waitAndForward(viewer: ViewerPresence, admitted: Admitted): Promise<void> {
    this.forwardOrDrop(await this.openStream(viewer), admitted);
  }

  private forwardOrDrop(stream: MuxStream | null, admitted: Admitted): void {
    if (stream === null) this.req.resume();
    else this.forward(stream, admitted);
  }

  /**
   * The listeners run inside the session's frame dispatch, where a throw would be taken for
   * a protocol error and close the agent's whole session: each catches into `caught`. One
   * closure per listener, and `on`, not `once`: a stream emits each of these at most once.
   */
  private forward(stream: MuxStream, admitted: Admitted): void {
    const { req, res, deps } = this;
    const withBody = hasRequestBody(req);
    this.sendHead(stream, admitted, { fin: !withBody, upgrade: false });
    this.armAnswerTimeout(stream, answerTimeoutMessage);
    if (withBody)
      this.body = new RequestBody(
        req,
        stream,
        { timers: deps.timers, idleMs: deps.bodyIdleMs, capture: this.capture?.requestBody ?? null },
        (err) => this.fail(err),
      );
    else req.resume();

    stream.on('head', (head: ResponseHead) => {
      try {
        this.onHead(stream, head, admitted);
      } catch (thrown) {
        this.caught(thrown);
      }
    });
    // The end is the exchange's (a body short of its length is cut), not the pump's.
    stream.on('end', () => {
      try {
        this.onEnd();
      } catch (thrown) {
        this.caught(thrown);
      }
    });
    stream.on('reset', (err: TunnelError) => {
      try {
        this.clearAnswerTimeout();
        // A response already whole reached the viewer: only the upload is left to drop.
        if (res.writableEnded && this.pendingHead === null) this.abandonBody();
        else this.fail(err);
      } catch (thrown) {
        this.caught(thrown);
      }
    });
  }

  /**
   * The response's one 'close' listener: the request is recorded, a viewer that left before
   * its answer was complete is marked gone, and its stream (once there is one) reset.
   */
  private onViewerClose(): void {
    const { res, stream } = this;
    const complete = res.writableFinished;
    // The edge cut the stream for it: the record says so (unless it failed first for another reason).
    if (!complete) this.errorCode ??= 'TUN_ERR_STREAM_CANCELLED';
    // Only when someone listens: this runs for every request.
    if (this.deps.observer != null) this.recordOutcome();
    if (complete) {
      if (stream !== null) this.clearAnswerTimeout();
      return;
    }
    this.viewer.leave();
    if (stream === null) return;
    this.clearAnswerTimeout();
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
  }

  private onHead(stream: MuxStream, head: ResponseHead, admitted: Admitted): void {
    this.clearAnswerTimeout();
    const out = this.viewerHead(stream, head, admitted, NOT_UPGRADE);
    if (out === null) return;
    if (headerValue(out.headers, 'x-request-id') === undefined)
      out.headers.push('X-Request-Id', this.request.requestId);
    // HSTS only over TLS (RFC 6797 §7.2), and never over the origin's own choice.
    const { hsts } = this.deps;
    if (
      hsts !== null &&
      this.request.secure &&
      headerValue(out.headers, 'strict-transport-security') === undefined
    )
      out.headers.push('Strict-Transport-Security', hsts);
    this.bodyLeft = out.bodyLength;
    this.pumpBody(stream);
    if (out.bodyLength === 0) {
      // Nothing may follow (HEAD, 204, 304, or an empty body): the viewer is answered now.
      this.writeHead(out).end();
    } else if (out.bodyLength === null) {
      // A streamed body of unknown length (SSE, chunked) must show its head before the
      // first byte exists. Not flushHeaders(): it sends the head as UTF-8, which turns an
      // obs-text byte (0x80-0xff) in a header value into two; an empty latin1 write does not.
      this.writeHead(out).write('', 'latin1');
    } else {
      this.pendingHead = out;
    }
  }

  /**
   * The body through the shared pipe: the stream pauses (withholding credit) while the viewer
   * is slow. Its idle timer runs also after the viewer has its whole answer: a stream whose
   * END never comes is reset after `responseIdleMs` instead of holding one of the session's
   * stream slots for good. The hooks run inside the session's frame dispatch, hence `caught`.
   */
  private pumpBody(stream: MuxStream): void {
    const { deps } = this;
    this.response = pumpFromStream(stream, this.res, {
      onChunk: (chunk: Buffer) => {
        try {
          return this.withinLength(chunk);
        } catch (thrown) {
          this.caught(thrown);
          return false;
        }
      },
      write: (chunk: Buffer) => {
        try {
          return this.writeBody(chunk);
        } catch (thrown) {
          this.caught(thrown);
          return false;
        }
      },
      end: false,
      idle: {
        ms: deps.responseIdleMs,
        timers: deps.timers,
        onIdle: () => {
          try {
            this.cut(
              new TunnelError(
                'TUN_ERR_RESPONSE_TIMEOUT',
                `no response body bytes for ${deps.responseIdleMs} ms`,
              ),
            );
          } catch (thrown) {
            this.caught(thrown);
          }
        },
      },
    });
  }

  /**
   * Never writes past the declared length: the extra bytes would reach the viewer as the
   * start of a second response on the same connection.
   */
  private withinLength(chunk: Buffer): boolean {
    if (this.bodyLeft === null) return true;
    if (chunk.length > this.bodyLeft) {
      this.cut(new TunnelError('TUN_ERR_BODY_LENGTH', `the response body is longer than its Content-Length`));
      return false;
    }
    this.bodyLeft -= chunk.length;
    return true;
  }

  private writeBody(chunk: Buffer): boolean {
    const { res } = this;
    const pending = this.pendingHead;
    if (pending !== null) {
      this.pendingHead = null;
      this.writeHead(pending);
    }
    this.capture?.responseBody?.add(chunk);
    const more = res.write(chunk);
    // The declared body is complete: answer now, without waiting for the agent's END,
    // so requests pipelined behind this one are not held up.
    if (this.bodyLeft !== 0) return more;
    res.end();
    return true;
  }

  /** HTTP/2 has no reason phrase (Node warns on one). */
  private writeHead(head: ForwardHead): ServerResponse {
    if (this.req.httpVersionMajor !== 2) return this.res.writeHead(head.status, head.reason, head.headers);
    try {
      return this.res.writeHead(head.status, head.headers);
    } catch (err) {
      // Node keeps what a throwing writeHead set: the error page must not carry the origin's fields.
      for (let i = 0; i < head.headers.length; i += 2) this.res.removeHeader(head.headers[i]!);
      throw err;
    }
  }

  private onEnd(): void {
    const { res } = this;
    if ((!res.headersSent && this.pendingHead === null) || res.writableEnded) return;
    // Ending early would leave the viewer waiting for bytes the next response would supply.
    if (this.bodyLeft !== null && this.bodyLeft > 0) {
      this.cut(
        new TunnelError('TUN_ERR_BODY_LENGTH', `the response body ended ${this.bodyLeft} bytes short`),
      );
      return;
    }
    res.end();
  }

  /** The stream is at fault once the head is known: reset it; the viewer's answer is `fail`'s. */
  private cut(err: TunnelError): void {
    this.response?.stop();
    this.stream?.reset(err);
    // A response already ended (its body complete, or a 204 whose agent sends a body anyway)
    // reached the viewer whole.
    if (this.res.writableEnded && this.pendingHead === null) return;
    this.fail(err);
  }

  protected fail(err: TunnelError): void {
    const { res } = this;
    this.pendingHead = null;
    this.errorCode = err.code;
    this.abandonBody();
    if (!res.headersSent && !res.destroyed) {
      sendErrorPage(res, errorPageFor(err, titleFor(err), this.request.requestId), this.req.headers.accept);
      return;
    }
    // After the head the status is sent: the viewer can only be cut. Node corks the socket
    // until the next tick; flush what was written first, so the viewer sees the head and
    // the body cut short, not a bare close.
    const socket = res.socket;
    for (let i = 0; socket && i < 16 && socket.writableCorked > 0; i++) socket.uncork();
    res.destroy();
  }

  /**
   * Once the exchange has failed, the rest of the request body is read and dropped: a
   * paused viewer would otherwise sit on its upload until the socket times out.
   */
  private abandonBody(): void {
    if (this.body !== null) this.body.abandon();
    else this.req.resume();
  }

  protected override requestBodyWhole(): boolean {
    if (!hasRequestBody(this.req)) return true;
    return this.body !== null && !this.body.abandoned && this.req.complete;
  }

  private recordOutcome(): void {
    const { res } = this;
    this.report(
      {
        // What the viewer got: a head written (then flushed or cut), or none at all.
        status: res.headersSent ? res.statusCode : 0,
        errorCode: this.errorCode,
        bytesIn: this.body?.bytes ?? 0,
        bytesOut: this.response?.stats.fromStream ?? 0,
      },
      NOT_UPGRADE,
    );
  }
}

/** Built when the timeout fires, not per request. */
function answerTimeoutMessage(ms: number): string {
  return `the local service did not answer within ${Math.round(ms / 1000)} s`;
}
