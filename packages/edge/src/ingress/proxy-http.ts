/**
 * One viewer request through a tunnel: the head goes out in OPEN, the body streams as
 * DATA under the stream's credit window (the viewer's socket is paused while the window
 * is shut), and the response streams back the same way (the stream is paused while the
 * viewer's socket is full). Nothing is buffered whole.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError, toTunnelError, type MuxStream, type ResponseHead, type Timers } from '@burrow/protocol';
import { errorPageFor, sendErrorPage } from './error-page.js';
import { headersAreValid, headerValue, requestHeadersForAgent, responseHeadersForViewer } from './headers.js';
import { normalizeHost } from './host-router.js';
import { admit, refusalHeaders, type PolicySource } from './policy-gate.js';
import { openLiveStream, openTunnelStream, ViewerPresence, type ResolveDeps } from './resolve-target.js';
import type { WarningCookies } from './anonymous-warning.js';
import { checkResponseHead } from './response-head.js';
import { ResponseIdle } from './response-idle.js';
import { answeredByWarning } from './warning-gate.js';

export interface ProxyDeps extends ResolveDeps {
  proto: 'http' | 'https';
  /** Per-tunnel access policies, enforced before anything reaches the agent. */
  policies: PolicySource;
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
  newRequestId(): string;
  /** Called once per request when it finishes, for logs and metrics. */
  onFinished?(info: {
    tunnel: string;
    method: string;
    status: number;
    error?: string;
    durationMs: number;
  }): void;
}

export interface TunnelRoute {
  name: string;
  path: string;
  prefix: string | null;
}

const TITLES: Partial<Record<TunnelError['code'], string>> = {
  TUN_ERR_TUNNEL_NOT_FOUND: 'Tunnel not found',
  TUN_ERR_AGENT_OFFLINE: 'Agent offline',
  TUN_ERR_ORIGIN_REFUSED: 'Local service refused the connection',
  TUN_ERR_ORIGIN_TIMEOUT: 'Local service timed out',
  TUN_ERR_ORIGIN_ERROR: 'Local service error',
  TUN_ERR_HEAD_INVALID: 'Invalid response from the local service',
  TUN_ERR_SESSION_CLOSED: 'Agent disconnected',
  TUN_ERR_TOO_MANY_STREAMS: 'Tunnel busy',
};

export function titleFor(err: TunnelError): string {
  return TITLES[err.code] ?? 'Tunnel error';
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export async function proxyHttp(
  deps: ProxyDeps,
  req: IncomingMessage,
  res: ServerResponse,
  route: TunnelRoute,
): Promise<void> {
  const started = deps.timers.now();
  const requestId = deps.newRequestId();
  const host = req.headers.host ?? route.name;
  const method = req.method ?? 'GET';
  let status = 0;
  let errorCode: string | undefined;
  /** The request body's idle timer; null when none runs. */
  let bodyIdle: unknown = null;
  let bodyAbandoned = false;
  /**
   * Once the exchange has failed, the rest of the request body is read and dropped: a
   * paused viewer would otherwise sit on its upload until the socket times out.
   */
  const abandonBody = (): void => {
    bodyAbandoned = true;
    deps.timers.clearTimeout(bodyIdle);
    bodyIdle = null;
    req.resume();
  };
  const fail = (err: TunnelError): void => {
    status = err.status;
    errorCode = err.code;
    abandonBody();
    sendErrorPage(res, errorPageFor(err, titleFor(err), requestId), req.headers.accept);
  };
  // Only when someone listens: this runs for every request.
  if (deps.onFinished) {
    res.once('close', () => {
      deps.onFinished?.({
        tunnel: route.name,
        method,
        status,
        error: errorCode,
        durationMs: deps.timers.now() - started,
      });
    });
  }
  const viewer = new ViewerPresence(res, () => res.writableFinished);
  const gate = admit(deps.policies, req, route, deps.proto === 'https');
  if ('refused' in gate) {
    const { refused } = gate;
    status = refused.status;
    errorCode = refused.code;
    req.resume();
    // Wrong credentials are answered slowly: guessing gets expensive before it gets locked out.
    if (refused.delayMs > 0)
      await new Promise((r) => deps.timers.setTimeout(() => r(undefined), refused.delayMs));
    if (!viewer.gone) res.writeHead(refused.status, refusalHeaders(refused, requestId)).end(refused.body);
    return;
  }
  const { admitted } = gate;

  if (deps.anonymousWarning) {
    try {
      if (await answeredByWarning(deps, req, res, route, viewer)) {
        status = res.statusCode;
        return;
      }
    } catch (err) {
      if (!viewer.gone) fail(toTunnelError(err));
      req.resume();
      return;
    }
  }

  // The usual case, a live agent, opens the stream without awaiting; waiting through a
  // reconnect, and saying why there is no agent, take the slow path.
  let stream: MuxStream;
  try {
    stream = openLiveStream(deps, route.name) ?? (await openTunnelStream(deps, route.name, host, viewer));
  } catch (err) {
    if (!viewer.gone) fail(toTunnelError(err));
    req.resume();
    return;
  }
  if (viewer.gone) {
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
    return;
  }

  const withBody = hasBody(req);
  const headers = requestHeadersForAgent(admitted.headers, {
    remoteAddress: req.socket.remoteAddress ?? '',
    proto: deps.proto,
    host,
    requestId,
    prefix: route.prefix,
  });
  stream.open(
    {
      tunnel: route.name,
      method,
      path: admitted.path,
      headers,
      remoteAddress: req.socket.remoteAddress ?? '',
      requestId,
    },
    { fin: !withBody, upgrade: false },
  );

  const timer = deps.timers.setTimeout(() => {
    const err = new TunnelError(
      'TUN_ERR_ORIGIN_TIMEOUT',
      `the local service did not answer within ${Math.round(deps.requestTimeoutMs / 1000)} s`,
    );
    stream.reset(err);
    fail(err);
  }, deps.requestTimeoutMs);

  if (withBody) {
    // Idle only counts while we are reading: a paused body (no credit) is our wait, not the viewer's.
    const armIdle = (): void => {
      deps.timers.clearTimeout(bodyIdle);
      bodyIdle = deps.timers.setTimeout(() => {
        const err = new TunnelError(
          'TUN_ERR_BODY_TIMEOUT',
          `no request body bytes for ${deps.bodyIdleMs} ms`,
        );
        stream.reset(err);
        fail(err);
        req.socket.destroySoon();
      }, deps.bodyIdleMs);
    };
    armIdle();
    req.on('data', (chunk: Buffer) => {
      if (bodyAbandoned) return;
      if (stream.write(chunk)) armIdle();
      else {
        deps.timers.clearTimeout(bodyIdle);
        req.pause();
      }
    });
    stream.on('drain', () => {
      if (bodyAbandoned) return;
      armIdle();
      req.resume();
    });
    req.once('end', () => {
      deps.timers.clearTimeout(bodyIdle);
      if (!bodyAbandoned) stream.end();
    });
    req.once('close', () => deps.timers.clearTimeout(bodyIdle));
  } else {
    req.resume();
  }

  /**
   * Ends a response whose head is out. Node corks the socket until the next tick; flush what
   * was written first, so the viewer sees the head and the body cut short, not a bare close.
   */
  const destroyViewer = (): void => {
    const socket = res.socket;
    for (let i = 0; socket && i < 16 && socket.writableCorked > 0; i++) socket.uncork();
    res.destroy();
  };
  // From here on every listener runs inside the session's frame dispatch: a throw would be
  // taken for a protocol error and close the agent's whole session, so none may escape.
  const guard =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        const error = toTunnelError(err);
        stream.reset(error);
        if (!res.headersSent) fail(error);
        else {
          errorCode = error.code;
          destroyViewer();
        }
      }
    };
  const cookieHost = route.prefix === null ? normalizeHost(req.headers.host) : null;
  /** Body bytes the viewer may still get; null when the body runs until the stream ends. */
  let bodyLeft: number | null = null;
  let idle: ResponseIdle | null = null;
  /** After the head went out the status is sent: the stream is reset and the viewer cut. */
  /**
   * A head with a body of known length waits for its first body byte, as Node would send it
   * anyway: until then a failure can still be a clear error page instead of a cut connection.
   */
  let pendingHead: { status: number; reason: string | undefined; headers: string[] } | null = null;
  const writePendingHead = (): void => {
    if (pendingHead === null) return;
    res.writeHead(pendingHead.status, pendingHead.reason, pendingHead.headers);
    pendingHead = null;
  };
  const cut = (err: TunnelError): void => {
    idle?.stop();
    stream.reset(err);
    if (pendingHead !== null) {
      pendingHead = null;
      fail(err);
      return;
    }
    // A response already ended (its body complete, or a 204 whose agent sends a body anyway)
    // reached the viewer whole; only the stream is at fault.
    if (res.writableEnded) return;
    errorCode = err.code;
    abandonBody();
    destroyViewer();
  };

  stream.once(
    'head',
    guard((head: ResponseHead) => {
      deps.timers.clearTimeout(timer);
      const checked = checkResponseHead(head, { method, upgrade: false });
      const out = checked.ok
        ? admitted.editResponse(responseHeadersForViewer(checked.head.headers, head.status, cookieHost))
        : [];
      if (!checked.ok || !headersAreValid(out)) {
        const err = new TunnelError(
          'TUN_ERR_HEAD_INVALID',
          `the local service sent a response head that is not valid HTTP${checked.ok ? '' : `: ${checked.reason}`}`,
        );
        stream.reset(err);
        fail(err);
        return;
      }
      const { reason, bodyLength } = checked.head;
      if (headerValue(out, 'x-request-id') === undefined) out.push('X-Request-Id', requestId);
      status = head.status;
      bodyLeft = bodyLength;
      // Also after the viewer has its whole answer: a stream whose END never comes is reset
      // after this long instead of holding one of the session's stream slots for good.
      idle = new ResponseIdle(deps.timers, deps.responseIdleMs, res, () =>
        cut(
          new TunnelError('TUN_ERR_RESPONSE_TIMEOUT', `no response body bytes for ${deps.responseIdleMs} ms`),
        ),
      );
      if (bodyLength === 0) {
        // Nothing may follow (HEAD, 204, 304, or an empty body): the viewer is answered now.
        res.writeHead(head.status, reason, out).end();
        return;
      }
      if (bodyLength === null) {
        // A streamed body of unknown length (SSE, chunked) must show its head before the
        // first byte exists. Not flushHeaders(): it sends the head as UTF-8, which turns an
        // obs-text byte (0x80-0xff) in a header value into two; an empty latin1 write does not.
        res.writeHead(head.status, reason, out).write('', 'latin1');
      } else {
        pendingHead = { status: head.status, reason, headers: out };
      }
    }),
  );
  stream.on(
    'data',
    guard((chunk: Buffer) => {
      if (bodyLeft !== null) {
        // Never write past the declared length: the extra bytes would reach the viewer as
        // the start of a second response on the same connection.
        if (chunk.length > bodyLeft) {
          cut(new TunnelError('TUN_ERR_BODY_LENGTH', `the response body is longer than its Content-Length`));
          return;
        }
        bodyLeft -= chunk.length;
      }
      idle?.touch();
      writePendingHead();
      const more = res.write(chunk);
      // The declared body is complete: answer now, without waiting for the agent's END,
      // so requests pipelined behind this one are not held up.
      if (bodyLeft === 0) res.end();
      else if (!more) stream.pause();
    }),
  );
  res.on('drain', () => stream.resume());
  stream.once(
    'end',
    guard(() => {
      idle?.stop();
      if ((!res.headersSent && pendingHead === null) || res.writableEnded) return;
      // Ending early would leave the viewer waiting for bytes the next response would supply.
      if (bodyLeft !== null && bodyLeft > 0) {
        cut(new TunnelError('TUN_ERR_BODY_LENGTH', `the response body ended ${bodyLeft} bytes short`));
        return;
      }
      res.end();
    }),
  );
  stream.once(
    'reset',
    guard((err: TunnelError) => {
      deps.timers.clearTimeout(timer);
      idle?.stop();
      req.resume();
      pendingHead = null;
      if (!res.headersSent) fail(err);
      else if (!res.writableEnded) {
        errorCode = err.code;
        destroyViewer();
      }
    }),
  );
  res.once('close', () => {
    deps.timers.clearTimeout(timer);
    idle?.stop();
    if (!res.writableFinished)
      stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the viewer went away'));
  });
}
