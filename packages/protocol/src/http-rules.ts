/**
 * HTTP rules both hops apply, defined once: which headers are hop-by-hop, which statuses a
 * HEAD may carry, and which reason phrases may reach a viewer's status line. The agent uses
 * them toward the origin and in what it sends; the edge re-applies them to what an untrusted
 * agent sends.
 */

import { STATUS_CODES } from 'node:http';
import { MAX_STATUS_TEXT } from './head-limits.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus Proxy-Connection seen in the wild. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
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

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * Header names (lower-case) listed in the Connection fields of a flat [name, value, ...]
 * list and not already on HOP_BY_HOP_HEADERS: hop-by-hop too. The shared empty set when
 * there are none, the usual case even for `Connection: keep-alive` (no set per response).
 */
export function connectionTokens(raw: readonly string[]): ReadonlySet<string> {
  let tokens: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = raw[i + 1]!;
    for (const token of value.includes(',') ? value.split(',') : [value]) {
      const t = token.trim().toLowerCase();
      if (t !== '' && !HOP_BY_HOP_HEADERS.has(t)) (tokens ??= new Set()).add(t);
    }
  }
  return tokens ?? NO_TOKENS;
}

/** Whether a header (lower-case name) is hop-by-hop: on the fixed list or named in Connection. */
export function isHopByHop(lowerName: string, named: ReadonlySet<string>): boolean {
  return HOP_BY_HOP_HEADERS.has(lowerName) || named.has(lowerName);
}

/** The statuses a HEAD frame may carry: three digits. Which of them fit a request is the edge's check. */
export const STATUS_RANGE = { min: 100, max: 999 } as const;

export function isValidStatus(status: number): boolean {
  return Number.isInteger(status) && status >= STATUS_RANGE.min && status <= STATUS_RANGE.max;
}

/** RFC 9112 reason-phrase: tab, space and visible ASCII (no obs-text: Node refuses it in a status line). */
const REASON = /^[\t\x20-\x7e]*$/;

/**
 * The reason phrase to send: `text` when it is a valid, non-empty phrase within
 * MAX_STATUS_TEXT, else the standard phrase for `status` (or none).
 */
export function reasonPhrase(status: number, text: string): string {
  if (text !== '' && text.length <= MAX_STATUS_TEXT && REASON.test(text)) return text;
  return STATUS_CODES[status] ?? '';
}
