/**
 * Which host a viewer's request is for, checked strictly before anything routes on it
 * (RFC 9112 §3.2): exactly one Host header holding a valid authority (a DNS-style name or
 * an IP literal, optional port 1–65535), and an absolute-form target whose authority
 * agrees with Host, turned into origin-form for the origin. Anything else is one 400
 * `TUN_ERR_BAD_REQUEST` for that request, so routing never guesses from a malformed Host.
 */

import { isIPv4, isIPv6 } from 'node:net';
import { TunnelError } from '@burrow/protocol';

export interface Authority {
  /** Lower-case, without the port or a trailing dot; IPv6 literals keep their brackets. */
  host: string;
  port: number | null;
}

/** One DNS-style label: letters, digits, hyphen, underscore (seen in the wild); 1–63 chars. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PORT = /^[0-9]{1,5}$/;
const MAX_NAME = 253;

/** Parses `host[:port]`; null unless it is a valid authority without userinfo. */
export function parseAuthority(text: string): Authority | null {
  let host: string;
  let port: string | null = null;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return null;
    host = text.slice(0, end + 1).toLowerCase();
    if (!isIPv6(host.slice(1, -1))) return null;
    const rest = text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      port = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    host = (colon === -1 ? text : text.slice(0, colon)).toLowerCase();
    if (colon !== -1) port = text.slice(colon + 1);
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (!isName(host)) return null;
  }
  if (port === null) return { host, port: null };
  if (!PORT.test(port)) return null;
  const number = Number(port);
  return number >= 1 && number <= 65535 ? { host, port: number } : null;
}

function isName(host: string): boolean {
  if (host.length === 0 || host.length > MAX_NAME) return false;
  // All-numeric dotted names must be real IPv4 addresses (no 999.1.1.1 or 1.2.3).
  if (/^[0-9.]+$/.test(host)) return isIPv4(host);
  return host.split('.').every((label) => LABEL.test(label));
}

/** The parts of a request head this check reads (IncomingMessage fits). */
export interface RequestHead {
  readonly url?: string;
  readonly method?: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: readonly string[];
}

export interface CheckedTarget {
  /** The Host header's authority; null only for an HTTP/1.0 request without Host. */
  authority: Authority | null;
  /** The Host header as sent (trimmed), or '' without one. */
  hostHeader: string;
  /** Origin-form (`/path?query`), or `*` for `OPTIONS *`. */
  path: string;
}

function bad(detail: string): TunnelError {
  return new TunnelError('TUN_ERR_BAD_REQUEST', detail);
}

const SCHEME_DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

function sameAuthority(a: Authority, b: Authority, scheme: string): boolean {
  const port = (x: Authority): number | null => x.port ?? SCHEME_DEFAULT_PORT[scheme] ?? null;
  return a.host === b.host && (a.port === b.port || port(a) === port(b));
}

/** Validates Host and the request target; returns the checked parts or the error to answer with. */
export function checkRequestTarget(req: RequestHead): CheckedTarget | TunnelError {
  const hosts: string[] = [];
  let pseudoAuthority: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    // Node keeps only the first Host in req.headers; rawHeaders shows every copy.
    if (name === 'host') hosts.push(req.rawHeaders[i + 1]!.trim());
    else if (name === ':authority') pseudoAuthority = req.rawHeaders[i + 1]!.trim();
  }
  if (hosts.length > 1) return bad('the request has more than one Host header');
  // HTTP/2 (RFC 9113 §8.3.1): :authority names the host; a Host beside it must agree.
  if (pseudoAuthority !== undefined) {
    if (hosts.length === 1 && hosts[0]!.toLowerCase() !== pseudoAuthority.toLowerCase())
      return bad('the Host header names another host than :authority');
    hosts[0] = pseudoAuthority;
  }
  const hostHeader = hosts[0] ?? '';
  let authority: Authority | null = null;
  if (hosts.length === 1) {
    authority = parseAuthority(hostHeader);
    if (authority === null) return bad('the Host header is not a valid host name with an optional port');
  } else if (req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1)) {
    return bad(
      req.httpVersionMajor > 1
        ? 'an HTTP/2 request needs an :authority'
        : 'an HTTP/1.1 request needs a Host header',
    );
  }

  const target = req.url ?? '/';
  if (target.startsWith('/')) return { authority, hostHeader, path: target };
  if (target === '*' && req.method === 'OPTIONS') return { authority, hostHeader, path: target };
  const absolute = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(target);
  if (absolute === null) return bad('the request target is neither a path nor an absolute http(s) URL');
  const scheme = absolute[1]!.toLowerCase();
  const targetAuthority = parseAuthority(absolute[2]!);
  if (targetAuthority === null) return bad('the request target names an invalid host');
  if (authority === null) {
    authority = targetAuthority;
  } else if (!sameAuthority(authority, targetAuthority, scheme)) {
    return bad('the request target names another host than the Host header');
  }
  const rest = absolute[3]!.split('#')[0]!;
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { authority, hostHeader: hosts.length === 1 ? hostHeader : absolute[2]!, path };
}
