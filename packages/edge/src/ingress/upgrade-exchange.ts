/**
 * An `Upgrade` request (WebSocket) through a tunnel. The agent answers with the origin's
 * head; on 101 the stream becomes a raw two-way byte pipe, so frames, close codes and
 * extensions pass through untouched. Any other answer is relayed and the viewer's side
 * closed. The viewer's side is an `UpgradeViewer`: an HTTP/1.1 socket, or an HTTP/2
 * extended CONNECT stream (RFC 8441); toward the agent both are the same HTTP/1.1 Upgrade.
 */

import type { IncomingMessage } from 'node:http';
import { pipeDuplex, TunnelError, type MuxStream, type PipeStats, type ResponseHead } from '@burrow/protocol';
import { Exchange, type ExchangeDeps } from './exchange.js';
import type { UpgradeOptions } from './headers.js';
import { admit, refusalHeaders, type Admitted } from './policy-gate.js';
import { ViewerPresence } from './resolve-target.js';
import type { TunnelRequest } from './tunnel-request.js';
import { failUpgrade, type UpgradeViewer } from './upgrade-viewer.js';

export class UpgradeExchange extends Exchange {
  private headWritten = false;
  /** What the viewer got (its record's status): 0 until a head or page went out. */
  private status = 0;
  private errorCode: string | null = null;
  /** Bytes each way through the pipe after the head; null before it. */
  private piped: PipeStats | null = null;
  /** An upgrade, with the key the edge made up for an HTTP/2 viewer: the policy, head check and record use it. */
  private readonly upgrade: UpgradeOptions;

  constructor(
    deps: ExchangeDeps,
    req: IncomingMessage,
    private readonly viewer: UpgradeViewer,
    request: TunnelRequest,
    onError: (err: unknown) => void,
  ) {
    super(deps, req, request, onError);
    this.upgrade = { upgrade: true, websocketKey: viewer.websocketKey };
  }

  protected async run(): Promise<void> {
    const { deps, req, request } = this;
    const { duplex } = this.viewer;
    duplex.on('error', () => duplex.destroy());
    if (deps.observer != null) duplex.once('close', () => this.recordOutcome());
    duplex.pause();
    const presence = new ViewerPresence(duplex, () => false);
    const secure = request.secure || deps.proto === 'https';
    const gate = admit(request.policy, req, request.route, secure, this.upgrade);
    if ('refused' in gate) {
      const { refused } = gate;
      // Set before the delay: a guesser that hangs up during it is still recorded as refused.
      this.errorCode = refused.code;
      if (refused.delayMs > 0) await this.delay(refused.delayMs);
      if (duplex.destroyed) return;
      this.status = refused.status;
      const out = this.viewer.respond(
        refused.status,
        refusalHeaders(refused, request.requestId),
        refused.body,
      );
      if (this.capture !== null) this.capture.responseHeaders = out;
      return;
    }
    const stream = await this.openStream(presence);
    if (stream !== null) this.forward(stream, gate.admitted);
  }

  private forward(stream: MuxStream, admitted: Admitted): void {
    const { early, duplex } = this.viewer;
    this.sendHead(stream, admitted, { fin: false, upgrade: true });
    if (early.length > 0) stream.write(early);
    this.armAnswerTimeout(stream, upgradeTimeoutMessage);
    stream.once(
      'head',
      this.guard((response: ResponseHead) => this.onHead(stream, response, admitted)),
    );
    stream.once('reset', (err: TunnelError) => {
      this.clearAnswerTimeout();
      this.fail(err);
    });
    duplex.once('close', () => {
      this.clearAnswerTimeout();
      stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
    });
  }

  private onHead(stream: MuxStream, response: ResponseHead, admitted: Admitted): void {
    this.clearAnswerTimeout();
    const out = this.viewerHead(stream, response, admitted, this.upgrade);
    if (out === null) return;
    this.viewer.answer(out);
    this.headWritten = true;
    this.status = out.status;
    if (out.status === 101) this.deps.observer?.upgraded?.(this.request.route.name);
    // The shared pipe: backpressure each way, either side's end half-closes the other, a
    // reset destroys the socket. The upgrade's head bytes went out right after OPEN.
    this.piped = pipeDuplex(stream, this.viewer.duplex, {
      toError: () => new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'),
    });
  }

  /** Before the head the viewer can still get a readable error; after it, only a cut. */
  protected fail(err: TunnelError): void {
    this.errorCode ??= err.code;
    const { viewer } = this;
    if (this.headWritten) {
      viewer.cut();
      return;
    }
    if (!viewer.duplex.destroyed) this.status = err.status;
    failUpgrade(viewer, err, this.req.headers.accept, this.request.requestId);
  }

  /** At the viewer side's close: its one record (bytes are the pipe's, after the head). */
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
      this.upgrade,
    );
  }
}

function upgradeTimeoutMessage(): string {
  return 'the local service did not answer the upgrade in time';
}
