/**
 * What the HTTP and the Upgrade exchange share, mirroring the agent's exchanges: open the
 * stream (at once to a live agent, or after waiting through a reconnect), send the head in
 * OPEN, time the answer out, check the response head, keep throws out of the session's
 * frame dispatch. Each kind writes its failures in one place, `fail`.
 */

import type { IncomingMessage } from 'node:http';
import { TunnelError, toTunnelError, type MuxStream, type ResponseHead, type Timers } from '@burrow/protocol';
import type { WarningCookies } from './anonymous-warning.js';
import { headersAreValid, requestHeadersForAgent, responseHeadersForViewer } from './headers.js';
import { normalizeHost } from './host-router.js';
import type { Admitted } from './policy-gate.js';
import { openLiveStream, openTunnelStream, type ResolveDeps, type ViewerPresence } from './resolve-target.js';
import { checkResponseHead } from './response-head.js';
import type { RequestResolveDeps, TunnelRequest } from './tunnel-request.js';

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
  /** Called once per request when it finishes, for logs and metrics. */
  onFinished?(info: {
    tunnel: string;
    method: string;
    status: number;
    error?: string;
    durationMs: number;
    /** The request itself (until exchanges hand out RequestRecords: observe/finished-record.ts). */
    request: TunnelRequest;
  }): void;
}

/** A response head that passed the checks, with the header list the viewer gets. */
export interface ForwardHead {
  status: number;
  reason: string;
  headers: string[];
  /** Body bytes that must follow; null when the body runs until the stream ends. */
  bodyLength: number | null;
}

export abstract class Exchange {
  protected stream: MuxStream | null = null;
  private timer: unknown = null;

  constructor(
    protected readonly deps: ExchangeDeps,
    protected readonly req: IncomingMessage,
    protected readonly request: TunnelRequest,
    private readonly onError: (err: unknown) => void,
  ) {}

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
    let stream: MuxStream;
    try {
      stream = await openTunnelStream(this.deps, this.request, viewer);
    } catch (err) {
      this.fail(toTunnelError(err));
      return null;
    }
    return this.adopt(stream, viewer);
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
   * with TUN_ERR_HEAD_INVALID.
   */
  protected viewerHead(
    stream: MuxStream,
    head: ResponseHead,
    admitted: Admitted,
    upgrade: boolean,
  ): ForwardHead | null {
    const { route, method } = this.request;
    const cookieHost = route.prefix === null ? normalizeHost(this.request.host) : null;
    const checked = checkResponseHead(head, { method, upgrade });
    const out = checked.ok
      ? admitted.editResponse(responseHeadersForViewer(checked.head.headers, head.status, cookieHost))
      : [];
    if (!checked.ok || !headersAreValid(out)) {
      const err = new TunnelError(
        'TUN_ERR_HEAD_INVALID',
        `the local service sent a response head that is not valid HTTP${checked.ok ? '' : `: ${checked.reason}`}`,
      );
      stream.reset(err);
      this.fail(err);
      return null;
    }
    return {
      status: head.status,
      reason: checked.head.reason,
      headers: out,
      bodyLength: checked.head.bodyLength,
    };
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
