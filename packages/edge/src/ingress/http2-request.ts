/**
 * What differs for a viewer request on an HTTP/2 stream (Node's compat `Http2ServerRequest`,
 * which the ingress handles as an `IncomingMessage`; see listeners/http2-viewers.ts): a body
 * needs no Content-Length, and ending a failed upload closes that stream, not the connection
 * every other stream shares.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { closeAfterResponse } from '../listeners/http2-close.js';

/** The HTTP/2 stream under a compat request (the caller knows `httpVersionMajor` is 2). */
export function http2StreamOf(req: IncomingMessage): Http2ServerRequest['stream'] {
  return (req as unknown as Http2ServerRequest).stream;
}

/** Whether a request body follows: on HTTP/2, unless HEADERS already ended the stream. */
export function hasRequestBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return !http2StreamOf(req).endAfterHeaders;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Stops a viewer's upload once its answer is out: HTTP/1.1 closes the connection; HTTP/2
 * resets the stream (NO_ERROR, RFC 9113 §8.1) after the response, so other streams go on.
 */
export function closeUploadAfterAnswer(req: IncomingMessage): void {
  if (req.httpVersionMajor !== 2) {
    req.socket.destroySoon();
    return;
  }
  closeAfterResponse(http2StreamOf(req));
}

/**
 * Whether the viewer is gone, on HTTP/1.1 and HTTP/2 alike: an `Http2ServerResponse` has no
 * `destroyed` of its own (and its request's stays false after a reset); its stream's does.
 */
export function viewerGone(res: ServerResponse): boolean {
  return res.destroyed || (res as { stream?: { destroyed: boolean } }).stream?.destroyed === true;
}
