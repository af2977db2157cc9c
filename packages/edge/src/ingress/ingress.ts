/**
 * The public listener's dispatch: every request and upgrade is routed by Host (and the
 * `/t/<name>/` path prefix) to a tunnel, to the edge's own handlers, to the tunnel a
 * verified custom domain routes to, or to a 404 that names the host. Malformed HTTP gets a
 * readable 400/408/431 from `clientError`. Edge-wide per-address limits (open connections,
 * requests per second) run first, before any tunnel is looked up. Every answer given here
 * without an exchange goes through `Refusals`, which records it like an exchange's.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { TunnelError, type ErrorCode } from '@burrow/protocol';
import {
  clientAddressOf,
  resolveClientAddress,
  resolveClientAddresses,
} from '../listeners/client-address.js';
import { peerAddressOf } from '../listeners/peer-address.js';
import { TrustedProxies } from '../listeners/trusted-proxies.js';
import {
  ConnectionCounter,
  limitConnections,
  TOO_MANY_CONNECTIONS,
  tooManyConnectionsText,
} from './connection-limit.js';
import { errorPageFor, titleFor, type ErrorPage } from './error-page.js';
import { closeUploadAfterAnswer, viewerGone } from './http2-request.js';
import { connectProtocol, Http2WebSocketViewer, WEBSOCKET_PROTOCOL } from './http2-websocket-viewer.js';
import { applyHeadLimits, headLimitRefusal } from './head-limits.js';
import { HostRouter, type Route } from './host-router.js';
import type { ExchangeDeps } from './exchange.js';
import { HttpExchange } from './http-exchange.js';
import { httpsRedirectLocation, type HttpsRedirectMode } from './https-redirect.js';
import { UpgradeExchange } from './upgrade-exchange.js';
import { writeRawFailure } from './raw-response.js';
import { Refusals } from './refusals.js';
import { SocketViewer, type UpgradeViewer } from './upgrade-viewer.js';
import { checkRequestTarget, type CheckedTarget } from './request-authority.js';
import { ViewerRateLimit } from './request-rate-limit.js';
import { viewerKey } from './viewer-key.js';
import { resolveRequest, type TunnelRoute } from './tunnel-request.js';

export interface EdgeHandlers {
  /** The edge's own HTTP routes (health, index page, later the API). */
  request(req: IncomingMessage, res: ServerResponse, path: string): void;
  /** The edge's own upgrades (the agent endpoint); false if not handled. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
  /** True for edge paths the per-address request rate limit must not count (health checks). */
  unlimited?(path: string): boolean;
}

/** Custom hostnames (outside the edge's domain) that route to a tunnel; DomainRoutes fits. */
export interface CustomHosts {
  /** From memory only; `host` is lower-case without a port. */
  tunnelFor(host: string): string | undefined;
  /** May query the store on a miss (rate-bounded by the implementation); never rejects. */
  lookup(host: string): Promise<string | undefined>;
}

export interface IngressOptions {
  domain: string;
  /** Custom domains; without it, every host outside the domain gets 404. */
  customHosts?: CustomHosts;
  /** Longest request target accepted; longer ones get 414. */
  maxUrlBytes: number;
  /** `limits.maxHeaderCount`: request heads with more header fields get 431. */
  maxHeaderCount: number;
  /** `limits.connectionsPerIp`; unset means no limit. */
  connectionsPerIp?: number;
  /** `limits.requestsPerSecondPerIp`; unset or 0 means no limit. */
  requestsPerSecondPerIp?: number;
  /** `proxy.trust`: peers whose X-Forwarded-For / Forwarded name the client; none by default. */
  trustedProxies?: TrustedProxies;
  proxy: ExchangeDeps;
  /**
   * Where refusals made before an exchange are reported (the access log, metrics and
   * statistics, not the history or the live feed: a flood held off by the edge's limits must
   * not push an owner's real requests out); the exchanges' own observer when unset.
   */
  refusalObserver?: ExchangeDeps['observer'];
  /** With an HTTPS listener: what plain-HTTP requests are redirected there, and its port. */
  httpsRedirect?: { mode: HttpsRedirectMode; port(): number };
  edge: EdgeHandlers;
  /**
   * ACME HTTP-01 answers (certs/acme/http01-responder.ts): asked before any routing, for
   * every Host; true when it took the request, which it hands to `next` (routing) unless
   * the token is the edge's own.
   */
  acmeChallenge?: (req: IncomingMessage, res: ServerResponse, path: string, next: () => void) => boolean;
  onError(err: unknown): void;
}

const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['TUN_ERR_HEADERS_TOO_LARGE', 'the request head is larger than this edge accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: ['TUN_ERR_HEAD_TIMEOUT', 'the request head took too long to arrive'],
  HPE_HEADERS_TIMEOUT: ['TUN_ERR_HEAD_TIMEOUT', 'the request head took too long to arrive'],
};

/** What other listeners (HTTP/2 over TLS) share with the one `attachIngress` was given. */
export interface Ingress {
  /**
   * The request handler for requests no http.Server emitted (`Http2ServerRequest`/
   * `Http2ServerResponse`, see listeners/): it resolves the client address first.
   */
  readonly request: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * An HTTP/2 CONNECT (a stream, not a socket): an extended CONNECT for WebSocket (RFC 8441)
   * is served as the Upgrade it stands for; any other `:protocol` gets 501, plain CONNECT 405.
   */
  readonly connect: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * `limits.connectionsPerIp` for a connection handed elsewhere (HTTP/2), in the same buckets:
   * false when its client is at the limit (the caller closes it); counted until it closes.
   */
  readonly admitConnection: (socket: Socket) => boolean;
}

/** CONNECT would make the edge a forward proxy. */
function connectRefusal(): TunnelError {
  return new TunnelError('TUN_ERR_METHOD_NOT_ALLOWED', 'this edge does not tunnel CONNECT requests');
}
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** The tunnel name a route names, as far as memory knows it (a custom domain's only when cached). */
function routedName(route: Route, customHosts: CustomHosts | undefined): string | undefined {
  if (route.kind === 'tunnel') return route.name;
  if (route.kind === 'unknown-host') return customHosts?.tunnelFor(route.host);
  return undefined;
}

export function attachIngress(server: Server, options: IngressOptions): Ingress {
  const router = new HostRouter(options.domain);
  const onError = (err: unknown): void => options.onError(err);
  applyHeadLimits(server, options.maxHeaderCount);
  const trusted = options.trustedProxies ?? TrustedProxies.parse([]);
  resolveClientAddresses(server, trusted);
  const refusals = new Refusals(
    options.refusalObserver === undefined
      ? options.proxy
      : { ...options.proxy, observer: options.refusalObserver },
  );
  const connections =
    options.connectionsPerIp === undefined ? null : new ConnectionCounter(options.connectionsPerIp);
  // Trusted proxies' connections carry many clients, known only per request: not counted.
  const exempt = (peer: string): boolean => trusted.trusts(peer);
  const refusedSockets =
    connections === null
      ? null
      : limitConnections(server, connections, {
          exempt,
          answer: (socket, max) => refusals.tooManyConnections(socket, max),
        });
  const rate = new ViewerRateLimit({
    perSecond: options.requestsPerSecondPerIp ?? 0,
    clock: options.proxy.timers,
  });

  const redirect = options.httpsRedirect?.mode === 'off' ? undefined : options.httpsRedirect;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // That connection was already answered with 429 (and recorded) and is closing; the parser read on anyway.
    if (refusedSockets?.has(req.socket)) {
      req.resume();
      return;
    }
    const arrivedAt = refusals.arrival();
    // First: past the field limit Node has dropped fields (Host among them, perhaps).
    const tooMany = headLimitRefusal(req, options.maxHeaderCount);
    if (tooMany !== null) {
      refusals.page(req, res, errorPageFor(tooMany, 'Request headers too large'), arrivedAt);
      return;
    }
    const checked = checkedTarget(req);
    if (checked instanceof TunnelError) {
      res.setHeader('Connection', 'close');
      refusals.page(req, res, errorPageFor(checked, 'Bad request'), arrivedAt);
      return;
    }
    const route = router.route(checked.authority?.host, checked.path);
    if (!(route.kind === 'edge' && options.edge.unlimited?.(route.path))) {
      const refusal = rate.take(clientAddressOf(req));
      if (refusal !== null) {
        refusals.page(req, res, refusal.page, arrivedAt, routedName(route, options.customHosts));
        return;
      }
    }
    if ((req.url ?? '').length > options.maxUrlBytes) {
      const err = new TunnelError(
        'TUN_ERR_URL_TOO_LONG',
        `the request target is longer than ${options.maxUrlBytes} bytes`,
      );
      const name = routedName(route, options.customHosts);
      refusals.page(req, res, errorPageFor(err, 'URI too long'), arrivedAt, name);
      return;
    }
    // ACME HTTP-01 validation, for any Host and before tunnel routing: a token the edge's
    // store holds gets the edge's answer, never a tunnel's page or a redirect; any other
    // token continues to routing (an origin may run its own ACME client through its tunnel).
    const routeOn = (): void => {
      const plain = redirect !== undefined && (req.socket as Partial<TLSSocket>).encrypted !== true;
      /** Sends the viewer to HTTPS when the redirect mode says so for `kind`; `name`: the custom domain's tunnel. */
      const redirected = (
        kind: Parameters<typeof httpsRedirectLocation>[1]['kind'],
        name?: string,
      ): boolean => {
        if (!plain) return false;
        const location = httpsRedirectLocation(
          redirect.mode,
          { kind },
          checked.authority,
          checked.path,
          redirect.port(),
        );
        if (location === null) return false;
        refusals.redirect(req, res, location, arrivedAt, name ?? routedName(route, options.customHosts));
        return true;
      };
      if (redirected(route.kind)) return;
      const toTunnel = (tunnel: TunnelRoute): void => {
        const request = resolveRequest(options.proxy, req, tunnel);
        new HttpExchange(options.proxy, req, res, request, onError).start();
      };
      if (route.kind === 'tunnel') {
        toTunnel(route);
      } else if (route.kind === 'edge') {
        options.edge.request(req, res, route.path);
      } else {
        const unknown = (): void => {
          const err = new TunnelError(
            'TUN_ERR_TUNNEL_NOT_FOUND',
            `this edge serves no tunnel at ${route.host}`,
          );
          refusals.page(req, res, errorPageFor(err, 'Tunnel not found'), arrivedAt);
        };
        viaCustomHost(options.customHosts, route, req.url ?? '/', {
          // A custom domain is known to be ours only now.
          toTunnel: (tunnel) => {
            if (!redirected('custom-domain', tunnel.name)) toTunnel(tunnel);
          },
          unknown,
          gone: () => viewerGone(res),
        });
      }
    };
    if (options.acmeChallenge?.(req, res, checked.path, routeOn) !== true) routeOn();
  };
  server.on('request', onRequest);

  // Without this listener Node drops a CONNECT socket with no answer at all.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    // That connection was already answered with 429 (and recorded) and is closing.
    if (refusedSockets?.has(req.socket)) {
      socket.destroy();
      return;
    }
    const page = errorPageFor(connectRefusal(), 'Method not allowed');
    refusals.rawConnect(req, socket, page, refusals.arrival(), ['Allow', ALLOWED_METHODS]);
    req.resume();
  });

  /**
   * An upgrade from either kind of viewer: an HTTP/1.1 `Upgrade` on its socket, or an HTTP/2
   * extended CONNECT for WebSocket on its stream. `edgeUpgrade` serves the edge's own (the
   * agent endpoint, HTTP/1.1 only); false when it did not take the request.
   */
  const onUpgrade = (
    req: IncomingMessage,
    viewer: UpgradeViewer,
    edgeUpgrade: (path: string) => boolean,
  ): void => {
    const arrivedAt = refusals.arrival();
    /** The one way an upgrade is refused here: the page to the viewer, and its record. */
    const refuse = (page: ErrorPage, name?: string): void =>
      refusals.upgrade(req, viewer, page, arrivedAt, name);
    // First: past the field limit Node has dropped fields (Host among them, perhaps).
    const tooMany = headLimitRefusal(req, options.maxHeaderCount);
    if (tooMany !== null) {
      refuse(errorPageFor(tooMany, titleFor(tooMany)));
      return;
    }
    const checked = checkedTarget(req);
    if (checked instanceof TunnelError) {
      refuse(errorPageFor(checked, titleFor(checked)));
      return;
    }
    const route = router.route(checked.authority?.host, checked.path);
    // The edge's own upgrade is the agent endpoint: agents are limited by the gateway, not here.
    if (route.kind !== 'edge') {
      const refusal = rate.take(clientAddressOf(req));
      if (refusal !== null) {
        refuse(refusal.page, routedName(route, options.customHosts));
        return;
      }
    }
    const toTunnel = (tunnel: TunnelRoute): void => {
      const request = resolveRequest(options.proxy, req, tunnel);
      new UpgradeExchange(options.proxy, req, viewer, request, onError).start();
    };
    const nothing = (): void => {
      const err = new TunnelError(
        'TUN_ERR_TUNNEL_NOT_FOUND',
        `nothing to upgrade at ${checked.hostHeader}${req.url ?? ''}`,
      );
      refuse(errorPageFor(err, titleFor(err)));
    };
    if (route.kind === 'tunnel') {
      toTunnel(route);
    } else if (route.kind === 'edge') {
      if (!edgeUpgrade(route.path)) nothing();
    } else {
      const { duplex } = viewer;
      // Node drops its own error listener on upgrade; a reset while the lookup runs must not crash.
      duplex.on('error', () => duplex.destroy());
      viaCustomHost(options.customHosts, route, req.url ?? '/', {
        toTunnel,
        unknown: nothing,
        gone: () => duplex.destroyed,
      });
    }
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (refusedSockets?.has(req.socket)) return;
    onUpgrade(req, new SocketViewer(socket, head), (path) => options.edge.upgrade(req, socket, head, path));
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.destroyed || !socket.writable) return;
    const [code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
      'TUN_ERR_MALFORMED_REQUEST',
      `malformed HTTP request (${err.code ?? 'parse error'})`,
    ];
    const failure = new TunnelError(code, message);
    // A bad body of a request an exchange already has: the exchange records it. As Node does,
    // the 400 goes out only while its response has not started; else the connection is cut.
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight != null) {
      if (inFlight.headersSent) socket.destroy();
      else writeRawFailure(socket, failure, undefined);
      return;
    }
    refusals.malformed(socket, failure);
  });

  /** Open WebSockets per HTTP/2 session (see admitHttp2WebSocket). */
  const webSocketsOpen = new WeakMap<object, number>();
  /**
   * Over HTTP/1.1 each WebSocket holds a connection, so `limits.connectionsPerIp` bounds them;
   * over HTTP/2 they are streams of one connection. So the connection's own slot covers its
   * first open WebSocket and every further one takes a slot of its address until it closes
   * (trusted proxies exempt, as for connections): N slots hold N WebSockets either way.
   * False: refused with 429.
   */
  const admitHttp2WebSocket = (req: IncomingMessage, viewer: Http2WebSocketViewer): boolean => {
    if (connections === null) return true;
    const peer = peerAddressOf(req.socket);
    if (exempt(peer)) return true;
    const key = viewerKey(peer);
    const { duplex } = viewer;
    const session = duplex.session as object;
    const open = webSocketsOpen.get(session) ?? 0;
    if (open >= 1 && !connections.acquire(key)) {
      const err = new TunnelError(TOO_MANY_CONNECTIONS, tooManyConnectionsText(connections.max));
      refusals.upgrade(
        req,
        viewer,
        { ...errorPageFor(err, titleFor(err)), retryAfterSeconds: 1 },
        refusals.arrival(),
      );
      return false;
    }
    const release = (): void => {
      const before = webSocketsOpen.get(session) ?? 1;
      webSocketsOpen.set(session, before - 1);
      if (before >= 2) connections.release(key);
    };
    webSocketsOpen.set(session, open + 1);
    if (duplex.closed || duplex.destroyed) {
      release();
      return false;
    }
    duplex.once('close', release);
    return true;
  };

  return {
    request: (req, res) => {
      resolveClientAddress(req, trusted);
      onRequest(req, res);
    },
    connect: (req, res) => {
      resolveClientAddress(req, trusted);
      const protocol = connectProtocol(req);
      if (protocol === WEBSOCKET_PROTOCOL) {
        // RFC 8441 §5: it stands for the GET of an HTTP/1.1 Upgrade; from here on (policy,
        // the OPEN head, the record) it is that GET, as `checkedTarget` makes url origin-form.
        req.method = 'GET';
        const viewer = new Http2WebSocketViewer(req, res);
        if (admitHttp2WebSocket(req, viewer)) onUpgrade(req, viewer, () => false);
        return;
      }
      if (protocol !== undefined) {
        const err = new TunnelError(
          'TUN_ERR_PROTOCOL_NOT_SUPPORTED',
          `this edge carries only ${WEBSOCKET_PROTOCOL} over extended CONNECT, not ${protocol}`,
        );
        refusals.page(req, res, errorPageFor(err, titleFor(err)), refusals.arrival());
        closeUploadAfterAnswer(req);
        return;
      }
      res.setHeader('Allow', ALLOWED_METHODS);
      refusals.page(req, res, errorPageFor(connectRefusal(), 'Method not allowed'), refusals.arrival());
    },
    admitConnection: (socket) => {
      if (connections === null) return true;
      const peer = peerAddressOf(socket);
      if (exempt(peer)) return true;
      const key = viewerKey(peer);
      if (!connections.acquire(key)) {
        refusals.connectionClosed(socket);
        return false;
      }
      socket.once('close', () => connections.release(key));
      return true;
    },
  };
}

/**
 * Host and the request target, validated; on success `req.url` becomes origin-form, so the
 * policy, the warning page and the origin all see the same path routing saw.
 */
function checkedTarget(req: IncomingMessage): CheckedTarget | TunnelError {
  const checked = checkRequestTarget(req);
  if (!(checked instanceof TunnelError)) req.url = checked.path;
  return checked;
}

/**
 * Serves an unknown host as the tunnel its custom domain routes to, exactly as if it had
 * come in as `<name>.<domain>` (the Host header, hence X-Forwarded-Host, is left as sent).
 * Known domains are answered synchronously; only a miss waits for the (rate-bounded) lookup.
 */
function viaCustomHost(
  customHosts: CustomHosts | undefined,
  route: Extract<Route, { kind: 'unknown-host' }>,
  path: string,
  then: {
    toTunnel(tunnel: TunnelRoute): void;
    unknown(): void;
    /** The viewer left while the lookup ran: answer nothing. */
    gone(): boolean;
  },
): void {
  if (customHosts === undefined) {
    then.unknown();
    return;
  }
  const known = customHosts.tunnelFor(route.host);
  if (known !== undefined) {
    then.toTunnel({ name: known, path, prefix: null });
    return;
  }
  void customHosts.lookup(route.host).then((name) => {
    if (then.gone()) return;
    if (name === undefined) then.unknown();
    else then.toTunnel({ name, path, prefix: null });
  });
}
