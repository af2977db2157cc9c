/**
 * Finding tunnel credentials in a request, and cutting them out of it: the Authorization
 * header, the `burrow_token` query parameter and the `burrow_token` cookie. Pure text
 * handling on flat raw header lists; nothing here knows the secrets.
 */

/** Query parameter and cookie name that carry the tunnel token; namespaced to avoid the origin's own. */
export const TOKEN_NAME = 'burrow_token';

/** The value of the first header named `lowerName`, or undefined. */
export function firstHeader(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  return undefined;
}

export interface Authorization {
  /** Lower-cased auth scheme, e.g. `basic`, `bearer`. */
  readonly scheme: string;
  readonly credentials: string;
  /** Position of the header's name in the flat list. */
  readonly index: number;
}

/**
 * The first Authorization header, split into scheme and credentials. Only the first is
 * read, so a request carrying many cannot try many passwords for the price of one.
 */
export function findAuthorization(raw: readonly string[]): Authorization | null {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'authorization') continue;
    const value = raw[i + 1]!.trim();
    const space = value.search(/[ \t]/);
    if (space === -1) return { scheme: value.toLowerCase(), credentials: '', index: i };
    return { scheme: value.slice(0, space).toLowerCase(), credentials: value.slice(space).trim(), index: i };
  }
  return null;
}

/** Basic credentials decoded to `"user:pass"` (UTF-8), or null if they cannot be. */
export function decodeBasic(credentials: string): string | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(credentials)) return null;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  return decoded.includes(':') ? decoded : null;
}

/** A copy of `raw` without the header whose name sits at `index`. */
export function withoutHeaderAt(raw: readonly string[], index: number): string[] {
  return [...raw.slice(0, index), ...raw.slice(index + 2)];
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Removes every `name` parameter from the query of a request target, keeping the other
 * parameters byte for byte. Returns the first value (percent-decoded; `+` stays `+`,
 * since tokens never hold spaces) or null if there was none.
 */
export function takeQueryParam(target: string, name: string): { target: string; value: string | null } {
  const question = target.indexOf('?');
  if (question === -1) return { target, value: null };
  let value: string | null = null;
  const kept: string[] = [];
  for (const pair of target.slice(question + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (key !== name) {
      kept.push(pair);
      continue;
    }
    value ??= decodeParam(eq === -1 ? '' : pair.slice(eq + 1));
  }
  if (value === null) return { target, value: null };
  const path = target.slice(0, question) || '/';
  return { target: kept.length === 0 ? path : `${path}?${kept.join('&')}`, value };
}

/**
 * Removes every `name` cookie from the Cookie headers, dropping a header left empty, and
 * keeps the other cookies in order. Cookie values are returned as sent (not unquoted). Returns the values found.
 */
export function takeCookie(raw: readonly string[], name: string): { headers: string[]; values: string[] } {
  const values: string[] = [];
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'cookie') {
      headers.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    const kept: string[] = [];
    let found = false;
    for (const part of raw[i + 1]!.split(';')) {
      const pair = part.trim();
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim() === name) {
        values.push(pair.slice(eq + 1).trim());
        found = true;
      } else if (pair !== '') {
        kept.push(pair);
      }
    }
    // A header without the cookie goes on byte for byte; only one that held it is rebuilt.
    if (!found) headers.push(raw[i]!, raw[i + 1]!);
    else if (kept.length > 0) headers.push(raw[i]!, kept.join('; '));
  }
  return { headers, values };
}

/**
 * True for a browser loading a page (not fetch/XHR, not curl): only then is a redirect
 * that sets a cookie the helpful answer. Browsers without Sec-Fetch-Mode are recognised
 * by asking for HTML.
 */
export function isNavigation(method: string, raw: readonly string[]): boolean {
  if (method.toUpperCase() !== 'GET') return false;
  const mode = firstHeader(raw, 'sec-fetch-mode');
  if (mode !== undefined) return mode.trim().toLowerCase() === 'navigate';
  return (firstHeader(raw, 'accept') ?? '').toLowerCase().includes('text/html');
}
