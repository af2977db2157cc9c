/**
 * Header rewriting at the edge, on flat raw header lists ([name, value, ...]) so order,
 * case and repeats survive: hop-by-hop headers are stripped both ways, X-Forwarded-*
 * and X-Request-Id are set on the way in.
 */

import { scopeSetCookie } from './cookie-scope.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus Proxy-Connection seen in the wild. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the edge sets itself; a viewer's own copies are dropped so they cannot be spoofed. */
const EDGE_SET = new Set(['x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'x-forwarded-prefix']);

const NO_TOKENS: ReadonlySet<string> = new Set();

/** Header names listed in Connection; the shared empty set when there is none (the usual case). */
function connectionTokens(raw: readonly string[]): ReadonlySet<string> {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) (tokens ??= new Set()).add(t);
    }
  }
  return tokens ?? NO_TOKENS;
}

/** Whether the header (lower-case name) is dropped as hop-by-hop, unless `keep` lists it. */
function isHopByHop(
  lower: string,
  named: ReadonlySet<string>,
  keep: ReadonlySet<string> | undefined,
): boolean {
  if (keep?.has(lower)) return false;
  return HOP_BY_HOP.has(lower) || named.has(lower);
}

/**
 * Removes hop-by-hop headers and those named in Connection. `keep` lists names that must
 * survive anyway (Upgrade and Connection on an upgrade request).
 */
export function stripHopByHop(raw: readonly string[], keep?: ReadonlySet<string>): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!isHopByHop(raw[i]!.toLowerCase(), named, keep)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export interface ForwardingInfo {
  remoteAddress: string;
  proto: 'http' | 'https';
  host: string;
  requestId: string;
  /** Set for path-routed requests (/t/<name>): the prefix the edge removed. */
  prefix: string | null;
}

/**
 * The request headers sent to the agent: hop-by-hop and Expect removed (the edge answers
 * 100-continue itself), X-Forwarded-For appended to, the other forwarding headers replaced.
 */
export function requestHeadersForAgent(
  raw: readonly string[],
  info: ForwardingInfo,
  options: { upgrade: boolean },
): string[] {
  const keep = options.upgrade ? UPGRADE_KEEP : undefined;
  const named = connectionTokens(raw);
  const out: string[] = [];
  let forwardedFor: string | null = null;
  // One pass: hop-by-hop, Expect and the edge's own headers dropped, X-Forwarded-For gathered.
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (isHopByHop(lower, named, keep) || lower === 'expect' || EDGE_SET.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === null ? raw[i + 1]! : `${forwardedFor}, ${raw[i + 1]!}`;
      continue;
    }
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push(
    'X-Forwarded-For',
    forwardedFor === null ? info.remoteAddress : `${forwardedFor}, ${info.remoteAddress}`,
  );
  out.push('X-Forwarded-Proto', info.proto, 'X-Forwarded-Host', info.host, 'X-Request-Id', info.requestId);
  if (info.prefix !== null) out.push('X-Forwarded-Prefix', info.prefix);
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
