/**
 * The origin's side of a WebSocket handshake the edge made up (an HTTP/2 viewer's extended
 * CONNECT, RFC 8441, becomes an HTTP/1.1 Upgrade with a key of the edge's): the edge is the
 * handshake's client, so it checks the answer as a client must (RFC 6455 §4.2.2) before the
 * viewer takes the stream for an open WebSocket. An HTTP/1.1 viewer's own handshake passes
 * through untouched, and that viewer checks it itself.
 */

import { createHash } from 'node:crypto';
import { headerValue } from './headers.js';

/** RFC 6455 §1.3: appended to the key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` a server must answer `key` with: base64(SHA-1(key + GUID)). */
export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/**
 * Why the origin's answer to the handshake made with `key` cannot reach an HTTP/2 viewer, or
 * null when it can. A 101 must switch to `websocket` with the right Accept. Any other 2xx
 * would tell the viewer the tunnel is open (RFC 9110 §9.3.6, RFC 8441 §5) while the origin
 * sends a page, not frames; 3xx, 4xx and 5xx are answers the viewer can read as refusals.
 */
export function handshakeAnswerProblem(
  key: string,
  head: { status: number; headers: readonly string[] },
): string | null {
  const { status, headers } = head;
  if (status === 101) {
    const upgrade = headerValue(headers, 'upgrade')?.trim().toLowerCase();
    if (upgrade !== 'websocket')
      return `its 101 names Upgrade ${JSON.stringify(upgrade ?? '')}, not websocket`;
    if (headerValue(headers, 'sec-websocket-accept')?.trim() !== websocketAccept(key))
      return 'its 101 carries a Sec-WebSocket-Accept that does not match the key';
    return null;
  }
  if (status >= 200 && status < 300)
    return `a ${status} answer to a WebSocket handshake (the viewer would take it for an open WebSocket)`;
  return null;
}
