/**
 * Header rewriting at the edge, on flat raw header lists ([name, value, ...]) so order,
 * case and repeats survive: hop-by-hop headers are stripped both ways, X-Forwarded-*,
 * X-Real-IP, Forwarded, X-Request-Id and the W3C traceparent/tracestate are set on the way in.
 */

import { connectionTokens, HOP_BY_HOP_HEADERS, isHopByHop } from '@burrow/protocol';
import { formatTraceparent, type TraceContext } from '../observe/trace-context.js';
import { scopeSetCookie } from './cookie-scope.js';

/** Headers the edge sets itself; a viewer's own copies are dropped so they cannot be spoofed. */
const EDGE_SET = new Set([
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
  'x-forwarded-prefix',
  'forwarded',
  // The client address: what the edge resolved (listeners/client-address.ts), never a claim.
  'x-forwarded-for',
  'x-real-ip',
  // Set only on replays (ingress/replay.ts): an origin may trust it.
  'x-burrow-replay-of',
]);

/** W3C Trace Context headers: the edge sends its own (with the viewer's tracestate when it continued the trace). */
const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

/** Whether the header (lower-case name) is dropped as hop-by-hop, unless `keep` lists it. */
function droppedAsHop(
  lower: string,
  named: ReadonlySet<string>,
  keep: ReadonlySet<string> | undefined,
): boolean {
  if (keep?.has(lower)) return false;
  return isHopByHop(lower, named);
}

/**
 * Removes hop-by-hop headers and those named in Connection. `keep` lists names that must
 * survive anyway (Upgrade and Connection on an upgrade request).
 */
export function stripHopByHop(raw: readonly string[], keep?: ReadonlySet<string>): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!droppedAsHop(raw[i]!.toLowerCase(), named, keep)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * Names a viewer's `Connection` header may not make hop-by-hop: Host routes the request and
 * must reach the origin as the public name, and the edge sets the forwarding headers itself.
 */
const NEVER_NAMED = new Set(['host', ...EDGE_SET]);

/** Whether a request is an upgrade, and the key for an HTTP/2 WebSocket made an HTTP/1.1 one. */
export interface UpgradeOptions {
  upgrade: boolean;
  /**
   * An HTTP/2 extended CONNECT (RFC 8441) carries no Upgrade or Sec-WebSocket-Key: with this
   * key the headers become the HTTP/1.1 handshake's (`Upgrade: websocket`, this key).
   */
  websocketKey?: string;
}

/**
 * The viewer's request headers as the tunnel's policy gets them: hop-by-hop headers (the
 * fixed list and those the viewer names in Connection, never Host or forwarding headers)
 * and Expect (the edge answers 100-continue itself) removed. This runs BEFORE the policy's
 * header edits, so a viewer's `Connection: X-Foo` cannot remove the owner's added X-Foo.
 * An upgrade keeps its Upgrade header and gets `Connection: Upgrade` naming nothing else.
 */
export function viewerRequestHeaders(
  raw: readonly string[],
  options: UpgradeOptions,
  http2 = false,
): string[] {
  const named = connectionTokens(raw);
  const key = options.upgrade ? options.websocketKey : undefined;
  const out: string[] = [];
  let authority = false;
  // HTTP/2 may split Cookie into crumbs; an HTTP/1.1 origin must get one field (RFC 9113 §8.2.3).
  let cookieAt = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'expect') continue;
    if (http2 && lower === 'cookie') {
      if (cookieAt === -1) {
        cookieAt = out.length + 1;
        out.push('cookie', raw[i + 1]!);
      } else out[cookieAt] += `; ${raw[i + 1]!}`;
      continue;
    }
    // HTTP/2 pseudo-headers never reach the agent; :authority travels as Host (the origin
    // speaks HTTP/1.1), and a Host beside it (checked equal by routing) is not sent twice.
    if (lower.charCodeAt(0) === 58 /* : */) {
      if (lower === ':authority') {
        authority = true;
        out.push('host', raw[i + 1]!);
      }
      continue;
    }
    if (authority && lower === 'host') continue;
    if (key !== undefined && lower === 'sec-websocket-key') continue;
    if (options.upgrade && lower === 'upgrade') out.push(raw[i]!, raw[i + 1]!);
    else if (HOP_BY_HOP_HEADERS.has(lower) || (named.has(lower) && !NEVER_NAMED.has(lower))) continue;
    else out.push(raw[i]!, raw[i + 1]!);
  }
  if (key !== undefined) out.push('Upgrade', 'websocket', 'Sec-WebSocket-Key', key);
  if (options.upgrade) out.push('Connection', 'Upgrade');
  return out;
}

export interface ForwardingInfo {
  /** The request's client address (TunnelRequest.clientAddress). */
  remoteAddress: string;
  proto: 'http' | 'https';
  host: string;
  requestId: string;
  /** Set for path-routed requests (/t/<name>): the prefix the edge removed. */
  prefix: string | null;
  /**
   * The request's trace (TunnelRequest.trace): the viewer's `traceparent` and `tracestate`
   * are replaced by this one's, whose parent is the edge's span. Absent: both pass as sent.
   */
  trace?: TraceContext;
}

/** RFC 7239 §6 node: IPv6 bracketed and quoted (a colon is not a token character). */
function forwardedNode(address: string): string {
  if (address === '') return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

/** A Forwarded parameter value: a token as is, anything else as a quoted-string. */
function forwardedValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The request headers sent to the agent, from the policy's output (already free of the
 * viewer's hop-by-hop headers, see viewerRequestHeaders): the viewer's copies of the
 * forwarding headers dropped; X-Forwarded-For and X-Real-IP (the one client address the edge
 * believes, so an origin reading either end of the list gets it), X-Forwarded-Proto/-Host/-Prefix,
 * X-Request-Id and Forwarded (one element for this hop) set by the edge; with `info.trace`,
 * the viewer's traceparent/tracestate replaced by the request's trace.
 */
export function requestHeadersForAgent(raw: readonly string[], info: ForwardingInfo): string[] {
  const out: string[] = [];
  const { trace } = info;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (EDGE_SET.has(lower) || (trace !== undefined && TRACE_HEADERS.has(lower))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push('X-Forwarded-For', info.remoteAddress, 'X-Real-IP', info.remoteAddress);
  out.push('X-Forwarded-Proto', info.proto, 'X-Forwarded-Host', info.host, 'X-Request-Id', info.requestId);
  if (trace !== undefined) {
    out.push('traceparent', formatTraceparent(trace));
    if (trace.traceState !== null) out.push('tracestate', trace.traceState);
  }
  if (info.prefix !== null) out.push('X-Forwarded-Prefix', info.prefix);
  out.push(
    'Forwarded',
    `for=${forwardedNode(info.remoteAddress)};host=${forwardedValue(info.host)};proto=${info.proto}`,
  );
  return out;
}

const UPGRADE_KEEP: ReadonlySet<string> = new Set(['upgrade', 'connection']);

/**
 * Response headers for the viewer: hop-by-hop removed (101 keeps Upgrade/Connection), and
 * Set-Cookie scoped to `cookieHost`, the tunnel's own host (null: no Domain allowed).
 */
export function responseHeadersForViewer(
  raw: readonly string[],
  status: number,
  cookieHost: string | null,
): string[] {
  const out = stripHopByHop(raw, status === 101 ? UPGRADE_KEEP : undefined);
  for (let i = 0; i < out.length; i += 2) {
    const name = out[i]!;
    if (name.length === 10 && name.toLowerCase() === 'set-cookie')
      out[i + 1] = scopeSetCookie(out[i + 1]!, cookieHost);
  }
  return out;
}

/**
 * Connection-specific fields an HTTP/2 message must not carry (RFC 9113 §8.2.2; TE only as
 * `trailers`, which a response has no use for; HTTP2-Settings, RFC 7540 §3.2.1): Node throws
 * ERR_HTTP2_INVALID_CONNECTION_HEADERS on a response head with any of them. Lower-case.
 */
export const HTTP2_FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);

/**
 * Fields Node sends at most once on HTTP/2 (it throws ERR_HTTP2_HEADER_SINGLE_VALUE on a
 * repeat; HTTP/1.1 passes repeats through). Content-Length repeats are merged earlier.
 */
export const HTTP2_SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

/**
 * `raw` as an HTTP/2 viewer can be sent it: without the fields HTTP/2 forbids, and with only
 * the first of a once-only field an origin repeated (what an HTTP/1.1 client would mostly
 * use too). `raw` itself (no copy) when nothing needs dropping, the usual case.
 */
export function http2ResponseHeaders(raw: string[]): string[] {
  let singles: Set<string> | null = null;
  let out: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    let drop = HTTP2_FORBIDDEN_HEADERS.has(name);
    if (!drop && HTTP2_SINGLE_VALUE_HEADERS.has(name)) {
      singles ??= new Set();
      drop = singles.has(name);
      singles.add(name);
    }
    if (drop) out ??= raw.slice(0, i);
    else out?.push(raw[i]!, raw[i + 1]!);
  }
  return out ?? raw;
}

/** The value of the first header named `name` (lower-case), or undefined. */
export function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True when every name is an RFC 9110 token and no value carries CR, LF or NUL. */
export function headersAreValid(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (!TOKEN.test(raw[i]!) || !FIELD_VALUE.test(raw[i + 1]!)) return false;
  }
  return true;
}
