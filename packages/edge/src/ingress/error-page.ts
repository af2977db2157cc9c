/**
 * Error responses the edge itself writes: a readable page for browsers, plain text for
 * everything else, and always the stable code in `X-Burrow-Error` for scripts.
 */

import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { ErrorCode, TunnelError } from '@burrow/protocol';
import { HTTP2_FORBIDDEN_HEADERS } from './headers.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

export interface ErrorPage {
  status: number;
  code: ErrorCode;
  title: string;
  detail: string;
  requestId?: string;
  /** Sent as `Retry-After` (429, 503). */
  retryAfterSeconds?: number;
}

const TITLES: Partial<Record<TunnelError['code'], string>> = {
  TUN_ERR_TUNNEL_NOT_FOUND: 'Tunnel not found',
  TUN_ERR_AGENT_OFFLINE: 'Agent offline',
  TUN_ERR_ORIGIN_REFUSED: 'Local service refused the connection',
  TUN_ERR_ORIGIN_TIMEOUT: 'Local service timed out',
  TUN_ERR_ORIGIN_ERROR: 'Local service error',
  TUN_ERR_ORIGIN_TLS: 'Local service TLS failure',
  TUN_ERR_HEAD_INVALID: 'Invalid response from the local service',
  TUN_ERR_SESSION_CLOSED: 'Agent disconnected',
  TUN_ERR_TOO_MANY_STREAMS: 'Tunnel busy',
  TUN_ERR_BAD_REQUEST: 'Bad request',
  TUN_ERR_MALFORMED_REQUEST: 'Bad request',
  TUN_ERR_HEAD_TIMEOUT: 'Request timeout',
  TUN_ERR_HEADERS_TOO_LARGE: 'Request headers too large',
  TUN_ERR_METHOD_NOT_ALLOWED: 'Method not allowed',
  TUN_ERR_PROTOCOL_NOT_SUPPORTED: 'Protocol not supported',
};

/** The page title for a failed exchange. */
export function titleFor(err: TunnelError): string {
  return TITLES[err.code] ?? 'Tunnel error';
}

export function errorPageFor(err: TunnelError, title: string, requestId?: string): ErrorPage {
  return { status: err.status, code: err.code, title, detail: err.message, requestId };
}

/** Renders the page as HTML or text; returns the body and its content type. */
export function renderErrorPage(page: ErrorPage, accept: string | undefined): { body: string; type: string } {
  if (wantsHtml(accept)) {
    const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>${page.status} ${escapeHtml(page.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f2f2f2;padding:0 .3em}small{color:#777}</style></head>
<body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.detail)}</p>
<p><small>${page.status} · <code>${page.code}</code>${page.requestId ? ` · request ${escapeHtml(page.requestId)}` : ''} · burrow</small></p>
</body></html>
`;
    return { body, type: 'text/html; charset=utf-8' };
  }
  const body = `${page.status} ${page.title}\n${page.detail}\n(${page.code}${page.requestId ? `, request ${page.requestId}` : ''})\n`;
  return { body, type: 'text/plain; charset=utf-8' };
}

/** True for a response on an HTTP/2 stream (Node's compat `Http2ServerResponse`). */
export function isHttp2(res: ServerResponse): boolean {
  return res.req?.httpVersionMajor === 2;
}

/**
 * Writes the error unless headers already went out, in which case the connection is cut.
 * Answers the body bytes written, 0 when it was cut instead (a page is never empty).
 * Never throws: it is the last resort of every failure path, and a throw here would escape
 * into whatever event (often a session frame) led to it.
 */
export function sendErrorPage(res: ServerResponse, page: ErrorPage, accept: string | undefined): number {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return 0;
  }
  const { body, type } = renderErrorPage(page, accept);
  try {
    const length = Buffer.byteLength(body);
    const headers = {
      'Content-Type': type,
      'Content-Length': length,
      'Cache-Control': 'no-store',
      'X-Burrow-Error': page.code,
      ...(page.requestId ? { 'X-Request-Id': page.requestId } : {}),
      ...(page.retryAfterSeconds !== undefined ? { 'Retry-After': String(page.retryAfterSeconds) } : {}),
    };
    // HTTP/2 has no reason phrase (Node warns on one) and no connection headers (it throws,
    // also on those an earlier writeHead that threw left set on the response).
    if (isHttp2(res)) {
      for (const name of HTTP2_FORBIDDEN_HEADERS) res.removeHeader(name);
      res.writeHead(page.status, headers);
    } else {
      // The reason is explicit: writeHead keeps a reason set by an earlier call that threw,
      // and would throw again on it.
      res.writeHead(page.status, STATUS_CODES[page.status] ?? '', headers);
    }
    res.end(body);
    return length;
  } catch {
    res.destroy();
    return 0;
  }
}
