/**
 * Phishing protection for anonymous tunnels (`tunnels.anonymousWarning`): a browser
 * navigation to a tunnel opened without an API key first gets an interstitial naming the
 * host; Continue (a same-origin form POST to `/_burrow/continue`) sets a cookie, signed
 * for that one tunnel and host, and sends the browser back to where it was going. Webhooks, API clients, fetch/XHR and WebSocket
 * upgrades never see it, so it cannot break a tunnel's machine traffic.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstHeader } from '../policy/request-credentials.js';

export const WARNING_COOKIE = 'burrow_warning_ok';
/** Like ngrok's `ngrok-skip-browser-warning`: the owner's own tools send it to pass. */
export const SKIP_WARNING_HEADER = 'burrow-skip-warning';
/** Reserved on anonymous tunnels while the warning is on; forwarded to the origin otherwise. */
export const CONTINUE_PATH = '/_burrow/continue';

/** Longest encoded return target carried in the Continue form; longer ones return to `/`. */
const MAX_RETURN_CHARS = 4096;

/**
 * The cookie's values: HMAC-SHA256 under the edge secret of the tunnel name and the host
 * it was reached at, so a value is worthless for any other tunnel or host (a constant
 * value would let one Continue, or a cookie planted by another tunnel, skip every warning).
 */
export class WarningCookies {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length < 16) throw new RangeError('the warning cookie key must be at least 16 bytes');
    this.#key = key;
  }

  /** The value for `tunnel` at `host` (lower-case, no port): 43 URL- and cookie-safe chars. */
  value(tunnel: string, host: string): string {
    return createHmac('sha256', this.#key)
      .update('anonymous-warning\0')
      .update(tunnel)
      .update('\0')
      .update(host)
      .digest('base64url');
  }
}

/** A request head as the decision needs it: method, flat raw header list, and this tunnel's cookie value. */
export interface WarningRequest {
  readonly method: string;
  readonly headers: readonly string[];
  /** `WarningCookies.value` for the tunnel and host the request is for. */
  readonly cookie: string;
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hasWarningCookie(raw: readonly string[], expected: string): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'cookie') continue;
    for (const pair of raw[i + 1]!.split(';')) {
      const eq = pair.indexOf('=');
      if (
        eq !== -1 &&
        pair.slice(0, eq).trim() === WARNING_COOKIE &&
        sameValue(pair.slice(eq + 1).trim(), expected)
      )
        return true;
    }
  }
  return false;
}

/**
 * True when the request is a top-level browser navigation that has not yet passed the
 * warning. Sec-Fetch-Mode decides when the browser sends it (only `navigate` is a page
 * load; `cors`, `no-cors`, `same-origin` are fetch/XHR/subresources); older browsers and
 * tools without it count as navigating only for a GET that accepts `text/html`.
 */
export function wantsWarning(request: WarningRequest): boolean {
  if (request.method !== 'GET') return false;
  const raw = request.headers;
  if (firstHeader(raw, SKIP_WARNING_HEADER) !== undefined) return false;
  if (firstHeader(raw, 'upgrade') !== undefined) return false;
  if (hasWarningCookie(raw, request.cookie)) return false;
  const mode = firstHeader(raw, 'sec-fetch-mode');
  if (mode !== undefined) return mode.trim().toLowerCase() === 'navigate';
  return (firstHeader(raw, 'accept') ?? '').toLowerCase().includes('text/html');
}

/** True for the Continue form's submission (any query after the path). */
export function isContinueRequest(method: string, routePath: string): boolean {
  return method === 'POST' && routePath.split('?')[0] === CONTINUE_PATH;
}

/**
 * The target to send the browser back to, from the Continue form's `to`: only a path on
 * this same host (and, for `/t/<name>` routes, inside the same prefix). Anything else,
 * `//evil.example`, `/\evil.example` and control characters included (browsers drop tabs
 * and newlines from URLs, turning `/\t/evil` into `//evil`), falls back to the tunnel's root.
 */
export function safeReturnTarget(to: string | null, prefix: string | null): string {
  const root = prefix === null ? '/' : `${prefix}/`;
  if (to === null || !/^\/(?![/\\])[\x21-\x7e]*$/.test(to)) return root;
  if (prefix !== null && to !== prefix && !to.startsWith(`${prefix}/`) && !to.startsWith(`${prefix}?`))
    return root;
  return to;
}

/**
 * Whether a Continue POST came from our own page. Browsers send Sec-Fetch-Site and Origin
 * on form posts; without this check another site could auto-submit the form and skip the
 * warning for its victim. A client sending neither is not a browser, so nothing is at stake.
 */
export function isSameOriginPost(headers: readonly string[], host: string): boolean {
  const site = firstHeader(headers, 'sec-fetch-site');
  if (site !== undefined) return site.trim().toLowerCase() === 'same-origin';
  const origin = firstHeader(headers, 'origin');
  if (origin === undefined) return true;
  if (!URL.canParse(origin)) return false;
  return new URL(origin).host === host.toLowerCase();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The interstitial's HTML. `returnTo` is the viewer's full request target (prefix included). */
export function renderWarningPage(options: {
  host: string;
  returnTo: string;
  prefix: string | null;
}): string {
  const { host, prefix } = options;
  const target = options.returnTo.length > MAX_RETURN_CHARS ? null : options.returnTo;
  const action = `${prefix ?? ''}${CONTINUE_PATH}?to=${encodeURIComponent(safeReturnTarget(target, prefix))}`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Anonymous tunnel: ${escapeHtml(host)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font:inherit;padding:.4em 1.2em;cursor:pointer}small{color:#777}</style></head>
<body><h1>Check before you continue</h1>
<p>You are about to visit <strong>${escapeHtml(host)}</strong>, served through a Burrow tunnel by an anonymous user.
Do not enter passwords or personal data unless you trust who sent you this link.</p>
<form method="post" action="${escapeHtml(action)}"><button type="submit" id="burrow-continue">Continue</button></form>
<p><small>Owner of this tunnel? Requests with the header <code>Burrow-Skip-Warning: 1</code> skip this page,
and tunnels opened with an API key or protected by basic auth or a token never show it.</small></p>
</body></html>
`;
}

/** Security headers for the edge's own pages on a tunnel host: no framing (clickjacking of Continue), no scripts. */
const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Burrow-Warning': 'anonymous-tunnel',
};

/** Writes the interstitial (200). */
export function sendWarningPage(req: IncomingMessage, res: ServerResponse, prefix: string | null): void {
  const body = renderWarningPage({ host: req.headers.host ?? '', returnTo: req.url ?? '/', prefix });
  res.writeHead(200, {
    ...PAGE_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Answers the Continue POST: sets the cookie and redirects (303, so the browser GETs)
 * back to the same-host target. A cross-site post gets the warning page again instead.
 */
export function sendContinue(
  req: IncomingMessage,
  res: ServerResponse,
  options: { routePath: string; prefix: string | null; secure: boolean; cookie: string },
): void {
  const { prefix } = options;
  const query = options.routePath.indexOf('?');
  const to = query === -1 ? null : new URLSearchParams(options.routePath.slice(query + 1)).get('to');
  const returnTo = safeReturnTarget(to, prefix);
  if (!isSameOriginPost(req.rawHeaders, req.headers.host ?? '')) {
    const body = renderWarningPage({ host: req.headers.host ?? '', returnTo, prefix });
    res.writeHead(200, {
      ...PAGE_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  // Host-only (no Domain) and, on the edge's own host, scoped to the /t/<name> prefix; the
  // value itself only passes for this tunnel at this host.
  const cookie =
    `${WARNING_COOKIE}=${options.cookie}; Path=${prefix ?? '/'}; HttpOnly; SameSite=Lax` +
    (options.secure ? '; Secure' : '');
  res.writeHead(303, {
    ...PAGE_HEADERS,
    Location: returnTo,
    'Set-Cookie': cookie,
    'Content-Length': 0,
  });
  res.end();
}
