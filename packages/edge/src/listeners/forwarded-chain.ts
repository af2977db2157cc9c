/**
 * The hop lists a request's forwarding headers claim, left (first client) to right (last
 * proxy): `X-Forwarded-For` entries, else RFC 7239 `Forwarded` `for=` values. Each hop is an
 * address with port, brackets and quotes removed, or null where no address can be read
 * (garbage, `unknown`, an obfuscated `_id`, an element without `for=`). Nothing here decides
 * what to believe: see trusted-proxies.ts.
 */

import { parseIp } from '../policy/cidr.js';

/** Parsed address text, or null. */
export type Hop = string | null;

/** Reads `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` and `[2001:db8::1]:80`. */
function hopAddress(text: string): Hop {
  let bare = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(bare);
  if (bracketed !== null) bare = bracketed[1]!;
  else if (/^[0-9.]+:\d{1,5}$/.test(bare)) bare = bare.slice(0, bare.lastIndexOf(':'));
  return parseIp(bare)?.text ?? null;
}

/** All values of header `name` (lower-case) joined as one comma list, or null when absent. */
function joinedValues(raw: readonly string[], name: string): string | null {
  let joined: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) joined = joined === null ? raw[i + 1]! : `${joined},${raw[i + 1]!}`;
  }
  return joined;
}

/** X-Forwarded-For hops; empty entries (`a,,b`) are skipped as list syntax, not hops. */
function xffHops(value: string): Hop[] {
  return value
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map(hopAddress);
}

/**
 * Splits on `sep` outside quoted-strings; null if a quote is left open (the header is then
 * malformed as a whole, so none of it is read).
 */
function splitOutsideQuotes(text: string, sep: string): string[] | null {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return null;
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

/** Forwarded hops: one per element, its `for=` node (RFC 7239 section 6). */
function forwardedHops(value: string): Hop[] {
  const elements = splitOutsideQuotes(value, ',');
  if (elements === null) return [null];
  return elements
    .filter((element) => element.trim() !== '')
    .map((element) => {
      const pairs = splitOutsideQuotes(element, ';') ?? [];
      const forPair = pairs.find((pair) => pair.trim().toLowerCase().startsWith('for='));
      if (forPair === undefined) return null;
      // `unknown` and `_obfuscated` nodes are no address; hopAddress returns null for them.
      return hopAddress(unquote(forPair.slice(forPair.indexOf('=') + 1)));
    });
}

/** The claimed hops: X-Forwarded-For when present, else Forwarded, else none. */
export function forwardedChain(raw: readonly string[]): Hop[] {
  const xff = joinedValues(raw, 'x-forwarded-for');
  if (xff !== null) return xffHops(xff);
  const forwarded = joinedValues(raw, 'forwarded');
  return forwarded === null ? [] : forwardedHops(forwarded);
}
