/**
 * The viewer's request head against the edge's head limits (`limits.maxHeaderCount`; the
 * byte limit is node:http's maxHeaderSize). Both settings are bounded by the protocol's
 * VIEWER_HEAD_LIMITS, so a head accepted here is representable in OPEN. node:http would
 * silently drop headers past its maxHeadersCount; the edge refuses such a head instead.
 */

import type { IncomingMessage, Server } from 'node:http';
import { TunnelError } from '@burrow/protocol';

/**
 * Lets node:http keep one header field more than the limit, so a head over it is seen
 * (and refused by `headLimitRefusal`) instead of truncated.
 */
export function applyHeadLimits(server: Server, maxHeaderCount: number): void {
  server.maxHeadersCount = maxHeaderCount + 1;
}

/** The 431 for a request head with more header fields than allowed, or null. */
export function headLimitRefusal(req: IncomingMessage, maxHeaderCount: number): TunnelError | null {
  const fields = req.rawHeaders.length / 2;
  if (fields <= maxHeaderCount) return null;
  // HTTP/2 pseudo-headers (:method, :path, ...) are not header fields.
  if (req.httpVersionMajor === 2 && fields - pseudoHeaderCount(req.rawHeaders) <= maxHeaderCount) return null;
  return new TunnelError(
    'TUN_ERR_HEADERS_TOO_LARGE',
    `the request has more than ${maxHeaderCount} header fields, the most this edge accepts`,
  );
}

function pseudoHeaderCount(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.startsWith(':')) count++;
  return count;
}
