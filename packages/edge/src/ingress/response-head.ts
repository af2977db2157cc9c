/**
 * Checks the response head an agent relays before the edge writes any of it to a viewer.
 * The agent is not trusted: its status, reason phrase and message framing (RFC 9112 §6.3)
 * are validated here so that Node never throws while answering and a viewer's connection
 * never gets bytes that could be read as a second response.
 */

import { reasonPhrase } from '@burrow/protocol';

/** Up to 15 digits stays a safe integer; no real body is near 10^15 bytes. */
const LENGTH = /^[0-9]{1,15}$/;

export interface ViewerHead {
  status: number;
  reason: string;
  /** The agent's headers with Content-Length collapsed to one (or removed where not allowed). */
  headers: readonly string[];
  /** Body bytes the viewer must get exactly; null when the body runs until the stream ends. */
  bodyLength: number | null;
}

export type CheckedHead = { ok: true; head: ViewerHead } | { ok: false; reason: string };

/** Whether a response to `method` with `status` has no body whatever its headers say (RFC 9110 §6.4.1). */
function isBodyless(method: string, status: number): boolean {
  return status === 204 || status === 304 || status < 200 || method.toUpperCase() === 'HEAD';
}

/**
 * Validates status and framing. A plain request accepts 200–599; an upgrade request also
 * 101. Content-Length must be one non-negative integer (identical repeats, `5, 5`, are
 * collapsed as RFC 9110 §8.6 allows) and never comes with Transfer-Encoding.
 */
export function checkResponseHead(
  head: { status: number; statusText: string; headers: readonly string[] },
  request: { method: string; upgrade: boolean },
): CheckedHead {
  const { status } = head;
  const switching = request.upgrade && status === 101;
  if (!Number.isInteger(status) || ((status < 200 || status > 599) && !switching)) {
    return { ok: false, reason: `status ${status} is not a valid final status for this request` };
  }
  const raw = head.headers;
  let length: number | null = null;
  let chunked = false;
  // The usual head has one plain Content-Length and is passed on as it is, without a copy.
  let lengthFields = 0;
  let lengthText = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'transfer-encoding') chunked = true;
    if (name !== 'content-length') continue;
    lengthFields++;
    lengthText = raw[i + 1]!;
    for (const part of raw[i + 1]!.split(',')) {
      const value = part.trim();
      if (!LENGTH.test(value)) return { ok: false, reason: `Content-Length "${value}" is not a length` };
      const n = Number(value);
      if (length !== null && n !== length) return { ok: false, reason: 'conflicting Content-Length values' };
      length = n;
    }
  }
  if (length !== null && chunked) {
    return { ok: false, reason: 'Content-Length together with Transfer-Encoding' };
  }
  const bodyless = isBodyless(request.method, status);
  // 1xx and 204 must not carry Content-Length (RFC 9110 §8.6); HEAD and 304 keep it as metadata.
  const keepLength = length !== null && !(status < 200 || status === 204);
  return {
    ok: true,
    head: {
      status,
      reason: reasonPhrase(status, head.statusText),
      headers:
        lengthFields === 0 || (keepLength && lengthFields === 1 && lengthText === String(length))
          ? raw
          : withOneLength(raw, keepLength ? length : null),
      bodyLength: bodyless ? 0 : length,
    },
  };
}

/** The headers with every Content-Length field replaced by one (at the first's place), or none. */
function withOneLength(raw: readonly string[], length: number | null): string[] {
  const headers: string[] = [];
  let written = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'content-length') headers.push(raw[i]!, raw[i + 1]!);
    else if (length !== null && !written) {
      headers.push(raw[i]!, String(length));
      written = true;
    }
  }
  return headers;
}
