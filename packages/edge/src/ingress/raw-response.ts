/** Responses written straight to a socket, for upgrade requests that never become HTTP responses. */

import type { Duplex } from 'node:stream';
import type { TunnelError } from '@burrow/protocol';
import { errorPageFor, renderErrorPage, titleFor, type ErrorPage } from './error-page.js';
import { reasonPhrase } from '@burrow/protocol';

/**
 * Serializes a response head; the caller has validated the headers. The reason phrase is
 * checked here, where it is written, so no caller can put CR/LF into a status line.
 */
export function formatResponseHead(status: number, statusText: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status, statusText)}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  return `${head}\r\n`;
}

/** A small complete plain-text response that closes the connection, as bytes to write. */
export function formatRawResponse(status: number, body: string, extra: readonly string[] = []): string {
  const head = formatResponseHead(status, '', [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'Connection',
    'close',
    ...extra,
  ]);
  return head + body;
}

/** Writes a small complete response and closes the socket. */
export function writeRawResponse(socket: Duplex, status: number, body: string, extra: string[] = []): void {
  if (socket.destroyed) return;
  socket.end(formatRawResponse(status, body, extra));
}

/**
 * The one failure writer for raw sockets (upgrades, CONNECT, the parser's own refusals): the
 * error page with its stable code in X-Burrow-Error (and the request id, Retry-After when the
 * page has them), then the socket closes. Nothing once the socket is gone. Answers the body
 * bytes written (0 for nothing).
 */
export function writeRawErrorPage(
  socket: Duplex,
  page: ErrorPage,
  accept: string | undefined,
  extra: readonly string[] = [],
): number {
  // Ended already (a connection answered and closing): a second end would throw.
  if (socket.destroyed || socket.writableEnded || !socket.writable) return 0;
  const { body, type } = renderErrorPage(page, accept);
  const length = Buffer.byteLength(body);
  const headers = [
    'Content-Type',
    type,
    'Content-Length',
    String(length),
    'Connection',
    'close',
    'X-Burrow-Error',
    page.code,
  ];
  if (page.requestId !== undefined) headers.push('X-Request-Id', page.requestId);
  if (page.retryAfterSeconds !== undefined) headers.push('Retry-After', String(page.retryAfterSeconds));
  socket.end(formatResponseHead(page.status, '', [...headers, ...extra]) + body);
  return length;
}

/** `writeRawErrorPage` for a TunnelError, titled as the proxy titles it. */
export function writeRawFailure(
  socket: Duplex,
  err: TunnelError,
  accept: string | undefined,
  requestId?: string,
  extra: readonly string[] = [],
): number {
  return writeRawErrorPage(socket, errorPageFor(err, titleFor(err), requestId), accept, extra);
}
