/**
 * The public listener's dispatch: every request and upgrade is routed by Host (and the
 * `/t/<name>/` path prefix) to a tunnel, to the edge's own handlers, or to a 404 that
 * names the host. Malformed HTTP gets a readable 400/408/431 from `clientError`.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TunnelError } from '@burrow/protocol';
import { errorPageFor, sendErrorPage } from './error-page.js';
import { HostRouter } from './host-router.js';
import { proxyHttp, type ProxyDeps } from './proxy-http.js';
import { proxyUpgrade } from './proxy-upgrade.js';
import { writeRawResponse } from './raw-response.js';

export interface EdgeHandlers {
  /** The edge's own HTTP routes (health, index page, later the API). */
  request(req: IncomingMessage, res: ServerResponse, path: string): void;
  /** The edge's own upgrades (the agent endpoint); false if not handled. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
}

export interface IngressOptions {
  domain: string;
  /** Longest request target accepted; longer ones get 414. */
  maxUrlBytes: number;
  proxy: ProxyDeps;
  edge: EdgeHandlers;
  onError(err: unknown): void;
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request head is larger than this edge accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request head took too long to arrive'],
  HPE_HEADERS_TIMEOUT: [408, 'the request head took too long to arrive'],
};

export function attachIngress(server: Server, options: IngressOptions): void {
  const router = new HostRouter(options.domain);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if ((req.url ?? '').length > options.maxUrlBytes) {
      const err = new TunnelError(
        'TUN_ERR_URL_TOO_LONG',
        `the request target is longer than ${options.maxUrlBytes} bytes`,
      );
      sendErrorPage(res, errorPageFor(err, 'URI too long'), req.headers.accept);
      req.resume();
      return;
    }
    const route = router.route(req.headers.host, req.url ?? '/');
    if (route.kind === 'tunnel') {
      proxyHttp(options.proxy, req, res, route).catch((err: unknown) => {
        options.onError(err);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    } else if (route.kind === 'edge') {
      options.edge.request(req, res, route.path);
    } else {
      const err = new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `this edge serves no tunnel at ${route.host}`);
      sendErrorPage(res, errorPageFor(err, 'Tunnel not found'), req.headers.accept);
    }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const route = router.route(req.headers.host, req.url ?? '/');
    if (route.kind === 'tunnel') {
      proxyUpgrade(options.proxy, req, socket, head, route).catch((err: unknown) => {
        options.onError(err);
        socket.destroy();
      });
    } else if (route.kind === 'edge' && options.edge.upgrade(req, socket, head, route.path)) {
      return;
    } else {
      writeRawResponse(socket, 404, `nothing to upgrade at ${req.headers.host ?? ''}${req.url ?? ''}\n`);
    }
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.destroyed || !socket.writable) return;
    const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
      400,
      `malformed HTTP request (${err.code ?? 'parse error'})`,
    ];
    writeRawResponse(socket, status, `${status} ${message}\n`);
  });
}
