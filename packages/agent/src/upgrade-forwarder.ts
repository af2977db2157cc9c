/**
 * Forwards an upgrade request (WebSocket) to the origin with `node:http`, since undici's
 * pool does not hand out upgraded sockets per stream. After the origin's 101 the stream is a
 * raw two-way byte pipe (`pipeDuplex`: backpressure each way, half-close, a socket failure
 * resets the stream with an ORIGIN_* code, a reset destroys the socket).
 *
 * An origin that answers with an ordinary response instead is forwarded like any response.
 */

import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import {
  pipeDuplex,
  pumpIntoStream,
  TunnelError,
  type MuxStream,
  type PumpOptions,
  type RequestHead,
} from '@burrow/protocol';
import { originAddress, originHost, originPort, type ForwardContext } from './forward-context.js';
import { responseHeadersForViewer } from './hop-headers.js';
import { describeOriginError } from './network-error.js';
import { OriginExchange } from './origin-exchange.js';
import { httpsOptions, type OriginTlsOptions } from './origin-tls-options.js';
import { originResponseHead } from './response-head.js';

/** Starts forwarding; never throws (a failure resets the stream). */
export function forwardUpgrade(
  stream: MuxStream,
  head: RequestHead,
  origin: URL,
  tls: OriginTlsOptions,
  context: ForwardContext,
): void {
  new UpgradeExchange(stream, head, origin, tls, context).start();
}

class UpgradeExchange extends OriginExchange {
  private request: http.ClientRequest | null = null;
  private socket: Duplex | null = null;
  private status: number | null = null;
  private timer: unknown = null;

  start(): void {
    // Viewer bytes wait (in the stream's window) until the origin has switched protocols.
    this.stream.pause();
    this.stream.on('reset', this.onViewerReset);
    this.timer = this.context.timers.setTimeout(() => this.onTimeout(), this.context.originTimeoutMs);
    try {
      const secure = this.origin.protocol === 'https:';
      const host = originHost(this.origin);
      const port = originPort(this.origin);
      const request = (secure ? https : http).request({
        host,
        port,
        method: this.head.method,
        path: this.head.path,
        // Upgrade and Connection are the point here, so the viewer's headers go as they are.
        headers: this.head.headers,
        setHost: false,
        agent: false,
        // The same verification as the pooled requests (origin-tls-options.ts); an explicit
        // servername, since node:https would otherwise take it from the Host header.
        ...(secure ? httpsOptions(this.tls) : {}),
      });
      this.request = request;
      request.on('upgrade', (res: http.IncomingMessage, socket: Duplex, upgradeHead: Buffer) =>
        this.onUpgrade(res, socket, upgradeHead),
      );
      request.on('response', (res: http.IncomingMessage) => this.onResponse(res));
      request.on('error', (err) => this.fail(err));
      request.end();
    } catch (err) {
      this.fail(err);
    }
  }

  private onUpgrade(res: http.IncomingMessage, socket: Duplex, upgradeHead: Buffer): void {
    this.socket = socket;
    // The origin ending its side must not end ours: the viewer may still be sending.
    socket.allowHalfOpen = true;
    if (this.clock.finished) {
      socket.destroy();
      return;
    }
    this.clearTimer();
    try {
      const status = res.statusCode ?? 101;
      const head = originResponseHead(status, res.statusMessage, res.rawHeaders, this.origin);
      head.originMs = this.clock.headArrived();
      // Throws, sending nothing, for a head the edge would refuse.
      this.stream.respond(head, { fin: false });
      this.status = status;
    } catch (err) {
      this.fail(err);
      return;
    }
    this.pipe(socket, upgradeHead);
  }

  private pipe(socket: Duplex, upgradeHead: Buffer): void {
    pipeDuplex(this.stream, socket, { head: upgradeHead, ...this.pipeOutcome() });
  }

  /** How both pipes from the origin report: origin failures in its words, then finish. */
  private pipeOutcome(): Pick<PumpOptions, 'toError' | 'onDone'> {
    const origin = originAddress(this.origin);
    return {
      toError: (err) =>
        describeOriginError(
          err ?? new TunnelError('TUN_ERR_ORIGIN_ERROR', 'the origin closed the connection'),
          origin,
        ),
      onDone: (_stats, err) => {
        this.finish(err ?? null);
        if (err !== undefined) this.teardown();
      },
    };
  }

  /** The origin declined the upgrade: forward its response like any other, discard viewer bytes. */
  private onResponse(res: http.IncomingMessage): void {
    if (this.clock.finished) {
      res.destroy();
      return;
    }
    this.clearTimer();
    const { stream } = this;
    const status = res.statusCode ?? 502;
    const noBody = this.head.method.toUpperCase() === 'HEAD' || status === 204 || status === 304;
    try {
      const head = originResponseHead(
        status,
        res.statusMessage,
        responseHeadersForViewer(res.rawHeaders),
        this.origin,
      );
      head.originMs = this.clock.headArrived();
      // Throws, sending nothing, for a head the edge would refuse.
      stream.respond(head, { fin: noBody });
      this.status = status;
    } catch (err) {
      res.destroy();
      this.fail(err);
      return;
    }
    stream.resume();
    if (noBody) {
      res.resume();
      this.finish(null);
      return;
    }
    pumpIntoStream(res, stream, this.pipeOutcome());
  }

  private readonly onViewerReset = (err: TunnelError): void => {
    this.finish(err);
    this.teardown();
  };

  private onTimeout(): void {
    this.timer = null;
    if (this.status !== null) return;
    const limit = this.context.originTimeoutMs;
    this.fail(
      new TunnelError(
        'TUN_ERR_ORIGIN_TIMEOUT',
        `${originAddress(this.origin)} did not answer within ${limit} ms`,
      ),
    );
  }

  private fail(err: unknown): void {
    if (this.clock.finished) return;
    const reason = describeOriginError(err, originAddress(this.origin));
    // Record first: a local reset emits 'close', whose listener would log the exchange as clean.
    this.finish(reason);
    this.stream.reset(reason);
    this.teardown();
  }

  private finish(err: TunnelError | null): void {
    const record = this.clock.finish(this.status, err?.code ?? null);
    if (record === null) return;
    this.clearTimer();
    this.stream.off('reset', this.onViewerReset);
    this.context.onRequest(record);
  }

  private teardown(): void {
    this.request?.destroy();
    this.socket?.destroy();
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.context.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
