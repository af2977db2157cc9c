/**
 * What the HTTP and the Upgrade exchange share, mirroring the agent's exchanges: open the
 * stream (at once to a live agent, or after waiting through a reconnect), send the head in
 * OPEN, time the answer out, check the response head, keep throws out of the session's
 * frame dispatch. Each kind writes its failures in one place, `fail`.
 */

import type { IncomingMessage } from 'node:http';
import {
  realStopwatch,
  TunnelError,
  toTunnelError,
  type MuxStream,
  type ResponseHead,
  type Stopwatch,
  type Timers,
} from '@burrow/protocol';
import type { RequestObserver } from '../observe/request-observer.js';
import type { RequestRecord } from '../store/request-records.js';
import type { WarningCookies } from './anonymous-warning.js';
import { ExchangeCapture } from './exchange-capture.js';
import {
  DEFAULT_RECORD_OPTIONS,
  recordHost,
  recordPath,
  recordTiming,
  serverTimingValue,
  type RecordOptions,
  type StepTimes,
} from './exchange-record.js';
import {
  headersAreValid,
  http2ResponseHeaders,
  requestHeadersForAgent,
  responseHeadersForViewer,
  viewerRequestHeaders,
  type UpgradeOptions,
} from './headers.js';
import { normalizeHost } from './host-router.js';
import type { Admitted } from './policy-gate.js';
import type { TunnelTarget } from '../registry/registry.js';
import { openLiveStream, openTunnelStream, type ResolveDeps, type ViewerPresence } from './resolve-target.js';
import { checkResponseHead } from './response-head.js';
import type { RequestResolveDeps, TunnelRequest } from './tunnel-request.js';
import { handshakeAnswerProblem } from './websocket-handshake.js';

export interface ExchangeDeps extends ResolveDeps, RequestResolveDeps {
  /** For requests on the plain listener; those over TLS are always https. */
  proto: 'http' | 'https';
  /** `Strict-Transport-Security` value for tunnel responses over TLS; null sends none. */
  hsts: string | null;
  requestTimeoutMs: number;
  /** A request body idle this long is cut off with 408 (slow-body attacks). */
  bodyIdleMs: number;
  /** A response body idle this long after its head is cut off (stalled origins). */
  responseIdleMs: number;
  /** `tunnels.anonymousWarning`: browser navigations to anonymous tunnels get a warning page first. */
  anonymousWarning: boolean;
  /** Signs the warning page's Continue cookie per tunnel (edge secret). */
  warningCookies: WarningCookies;
  timers: Timers;
  /**
   * Hears one record per request and upgrade when the viewer's side closes (history, stats,
   * metrics, access log). Null or absent: no record is built and no time is read for one.
   */
  observer?: RequestObserver | null;
  /** How records are made (`history.keepQuery`, `history.redactHeaders`); default: query kept, the four standard names. */
  recordOptions?: RecordOptions;
  /** The clock of the timing breakdown; default `performance.now`. */
  stopwatch?: Stopwatch;
}

/** How an exchange ended, from the viewer's side: what its record says beyond the request. */
export interface ExchangeOutcome {
  /** The status the viewer got; 0 when none. */
  status: number;
  errorCode: string | null;
  bytesIn: number;
  bytesOut: number;
}

/** A response head that passed the checks, with the header list the viewer gets. */
export interface ForwardHead {
  status: number;
  reason: string;
  headers: string[];
  /** Body bytes that must follow; null when the body runs until the stream ends. */
  bodyLength: number | null;
}

export abstract class Exchange implements StepTimes {
  protected stream: MuxStream | null = null;
  /** The target that took the stream when it was not the request's own (a wait through a reconnect). */
  private servedBy: TunnelTarget | undefined = undefined;
  private timer: unknown = null;
  /**
   * The steps' times (StepTimes), read only when someone needs them (an observer, or the
   * policy's Server-Timing): plain fields, so timing a request allocates nothing. Written by
   * the exchange alone; public only so the record arithmetic can take the exchange as it is.
   */
  readonly arrivedAt: number;
  openedAt = NaN;
  headAt = NaN;
  originMs: number | null = null;
  private readonly stopwatch: Stopwatch | null;
  /** The path OPEN carried (the policy's), the routed one until then. */
  private forwardedPath: string;
  /** Headers and bodies for the record, when the tunnel's policy captures and someone observes. */
  protected capture: ExchangeCapture | null;

  constructor(
    protected readonly deps: ExchangeDeps,
    protected readonly req: IncomingMessage,
    protected readonly request: TunnelRequest,
    private readonly onError: (err: unknown) => void,
  ) {
    const observed = deps.observer != null;
    const policy = request.policy;
    this.stopwatch = observed || policy?.serverTiming === true ? (deps.stopwatch ?? realStopwatch) : null;
    this.arrivedAt = this.stopwatch === null ? 0 : this.stopwatch();
    this.forwardedPath = request.route.path;
    // Not for anonymous tunnels: their records belong to nobody who could read the capture,
    // and anyone could make the edge hold bodies for them.
    this.capture =
      observed && policy?.capture != null && request.target?.anonymous !== true
        ? new ExchangeCapture(policy.capture)
        : null;
  }

  /**
   * Runs the exchange; never rejects: whatever goes wrong reaches the viewer through `fail`.
   * `run` returns a promise only when something had to wait (a refusal's delay, the warning
   * gate, a reconnect): the usual request allocates no promise chain.
   */
  start(): void {
    try {
      const waiting = this.run();
      if (waiting !== undefined) waiting.catch((err: unknown) => this.crashed(err));
    } catch (err) {
      this.crashed(err);
    }
  }

  private crashed(err: unknown): void {
    // A TunnelError (a head too large to forward) is the viewer's answer, not an edge fault.
    if (!(err instanceof TunnelError)) this.onError(err);
    const failure = toTunnelError(err);
    this.stream?.reset(failure);
    this.fail(failure);
  }

  protected abstract run(): Promise<void> | undefined;

  /** The one place this connection kind answers a failure: a page before its head, a cut after. */
  protected abstract fail(err: TunnelError): void;

  protected delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.timers.setTimeout(() => resolve(), ms));
  }

  /**
   * The usual case, a live agent: the stream opened without waiting. Undefined when there
   * is no live target and `openStream` must wait; null when the viewer got a failure or left.
   */
  protected openStreamNow(viewer: ViewerPresence): MuxStream | null | undefined {
    let stream: MuxStream | null;
    try {
      stream = openLiveStream(this.request);
    } catch (err) {
      this.fail(toTunnelError(err));
      return null;
    }
    return stream === null ? undefined : this.adopt(stream, viewer);
  }

  /** The slow path: waits through a reconnect, or says why there is no agent. */
  protected async openStream(viewer: ViewerPresence): Promise<MuxStream | null> {
    let opened: { stream: MuxStream; target: TunnelTarget };
    try {
      opened = await openTunnelStream(this.deps, this.request, viewer);
    } catch (err) {
      this.fail(toTunnelError(err));
      return null;
    }
    // After a reconnect the serving target is not the one found on arrival (often none).
    this.servedBy = opened.target;
    // An anonymous agent took the name back: its requests are not captured (see the constructor).
    if (opened.target.anonymous) this.capture = null;
    return this.adopt(opened.stream, viewer);
  }

  private adopt(stream: MuxStream, viewer: ViewerPresence): MuxStream | null {
    if (viewer.gone) {
      stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
      return null;
    }
    this.stream = stream;
    return stream;
  }

  /** Sends OPEN with the admitted head; throws TUN_ERR_HEADERS_TOO_LARGE for a head the peer cannot take. */
  protected sendHead(
    stream: MuxStream,
    admitted: Admitted,
    options: { fin: boolean; upgrade: boolean },
  ): void {
    const { route, clientAddress, requestId } = this.request;
    this.forwardedPath = admitted.path;
    const headers = requestHeadersForAgent(admitted.headers, {
      remoteAddress: clientAddress,
      proto: this.request.secure ? 'https' : this.deps.proto,
      host: this.request.host,
      requestId,
      prefix: route.prefix,
      trace: this.request.trace,
    });
    stream.open(
      {
        tunnel: route.name,
        method: this.request.method,
        path: admitted.path,
        headers,
        remoteAddress: clientAddress,
        requestId,
      },
      options,
    );
    if (this.stopwatch !== null) this.openedAt = this.stopwatch();
  }

  /** The agent must answer (its head) within `requestTimeoutMs`; the message is built only if it does not. */
  protected armAnswerTimeout(stream: MuxStream, message: (timeoutMs: number) => string): void {
    this.timer = this.deps.timers.setTimeout(() => {
      const err = new TunnelError('TUN_ERR_ORIGIN_TIMEOUT', message(this.deps.requestTimeoutMs));
      stream.reset(err);
      this.fail(err);
    }, this.deps.requestTimeoutMs);
  }

  protected clearAnswerTimeout(): void {
    this.deps.timers.clearTimeout(this.timer);
  }

  /**
   * The agent's head checked and edited for the viewer, or null after failing the exchange
   * with TUN_ERR_HEAD_INVALID. With `websocketKey` (the edge made the handshake up for an
   * HTTP/2 viewer) the answer must also complete that handshake, or be a refusal. An HTTP/2
   * viewer's head is without the connection-specific fields HTTP/2 forbids.
   */
  protected viewerHead(
    stream: MuxStream,
    head: ResponseHead,
    admitted: Admitted,
    { upgrade, websocketKey }: UpgradeOptions,
  ): ForwardHead | null {
    if (this.stopwatch !== null) {
      this.headAt = this.stopwatch();
      this.originMs = head.originMs ?? null;
    }
    const { route, method } = this.request;
    const cookieHost = route.prefix === null ? normalizeHost(this.request.host) : null;
    const checked = checkResponseHead(head, { method, upgrade });
    if (!checked.ok)
      return this.invalidHead(
        stream,
        `the local service sent a response head that is not valid HTTP: ${checked.reason}`,
      );
    const problem = websocketKey === undefined ? null : handshakeAnswerProblem(websocketKey, head);
    if (problem !== null)
      return this.invalidHead(
        stream,
        `the local service did not complete the WebSocket handshake: ${problem}`,
      );
    let out = admitted.editResponse(responseHeadersForViewer(checked.head.headers, head.status, cookieHost));
    if (!headersAreValid(out))
      return this.invalidHead(stream, 'the local service sent a response head that is not valid HTTP');
    if (this.req.httpVersionMajor === 2) out = http2ResponseHeaders(out);
    if (this.request.policy?.serverTiming === true) out.push('Server-Timing', serverTimingValue(this));
    // The same list the exchange goes on to send (its own additions included).
    if (this.capture !== null) this.capture.responseHeaders = out;
    return {
      status: head.status,
      reason: checked.head.reason,
      headers: out,
      bodyLength: checked.head.bodyLength,
    };
  }

  /** Fails the exchange with TUN_ERR_HEAD_INVALID: the stream reset, the viewer answered 502. */
  private invalidHead(stream: MuxStream, message: string): null {
    const err = new TunnelError('TUN_ERR_HEAD_INVALID', message);
    stream.reset(err);
    this.fail(err);
    return null;
  }

  /**
   * Hands the exchange's one record to the observer; called once, when the viewer's side
   * closed. Nothing at all without an observer.
   */
  protected report(outcome: ExchangeOutcome, { upgrade, websocketKey }: UpgradeOptions): void {
    const observer = this.deps.observer;
    if (observer == null) return;
    const { request, req } = this;
    const options = this.deps.recordOptions ?? DEFAULT_RECORD_OPTIONS;
    const record: RequestRecord = {
      id: request.requestId,
      tunnel: request.route.name,
      userId: (this.servedBy ?? request.target)?.userId ?? null,
      startedAt: new Date(request.startedAt),
      method: request.method,
      path: recordPath(this.forwardedPath, options.keepQuery),
      host: recordHost(request.host),
      status: outcome.status,
      upgrade,
      bytesIn: outcome.bytesIn,
      bytesOut: outcome.bytesOut,
      clientAddress: request.clientAddress,
      traceId: request.trace.traceId,
      trace: request.trace,
      errorCode: outcome.errorCode,
      timing: recordTiming(this, this.stopwatch!()),
      replayOf: null,
      capture:
        this.capture === null
          ? null
          : this.capture.toRecord(
              // The head the origin got: an HTTP/2 WebSocket's with the edge's handshake.
              viewerRequestHeaders(req.rawHeaders, { upgrade, websocketKey }, req.httpVersionMajor === 2),
              options.redactHeaders,
              this.requestBodyWhole(),
            ),
    };
    observer.record(record);
  }

  /**
   * Whether the agent got the viewer's whole request body (or there was none): a capture of
   * a body refused, cut or abandoned on its way is marked truncated, so it is never replayed
   * as if it were the request. Upgrades carry no body.
   */
  protected requestBodyWhole(): boolean {
    return true;
  }

  /**
   * Wraps a stream listener: these run inside the session's frame dispatch, where a throw
   * would be taken for a protocol error and close the agent's whole session.
   */
  protected guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** For a hook that answers (the pipe's `onChunk`, `write`): `onThrow` is its answer after a throw. */
  protected guard<A extends unknown[], R>(fn: (...args: A) => R, onThrow: R): (...args: A) => R;
  protected guard<A extends unknown[], R>(fn: (...args: A) => R, onThrow?: R): (...args: A) => R | undefined {
    return (...args: A): R | undefined => {
      try {
        return fn(...args);
      } catch (thrown) {
        this.caught(thrown);
        return onThrow;
      }
    };
  }

  /** What a listener that threw inside the frame dispatch does instead (see `guard`). */
  protected caught(thrown: unknown): void {
    const err = toTunnelError(thrown);
    this.stream?.reset(err);
    this.fail(err);
  }
}
