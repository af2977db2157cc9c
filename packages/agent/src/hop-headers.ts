/**
 * Hop-by-hop header filtering on flat raw header arrays ([name, value, name, value, ...]),
 * keeping order, case and repeats of everything else. The edge already strips the viewer's
 * hop-by-hop headers; the agent is a hop of its own, so it filters again defensively:
 * undici rejects several of these outright, and the origin's must not reach the viewer.
 * Which headers are hop-by-hop is the protocol's one definition (http-rules.ts).
 */

import { connectionTokens, isHopByHop } from '@burrow/protocol';

/** undici refuses `expect`; the edge's HTTP server already answered 100-continue to the viewer. */
const UNDICI_REJECTS = new Set(['expect']);

function filter(raw: readonly string[], drop: (lowerName: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (!drop(name.toLowerCase())) out.push(name, raw[i + 1]!);
  }
  return out;
}

/**
 * Headers for an ordinary request sent through undici. Also keeps only the first Host and
 * Content-Length, since undici throws on duplicates (the edge should never send any).
 */
export function requestHeadersForOrigin(raw: readonly string[]): string[] {
  const listed = connectionTokens(raw);
  let seenHost = false;
  let seenLength = false;
  return filter(raw, (name) => {
    if (isHopByHop(name, listed) || UNDICI_REJECTS.has(name)) return true;
    if (name === 'host') {
      if (seenHost) return true;
      seenHost = true;
    } else if (name === 'content-length') {
      if (seenLength) return true;
      seenLength = true;
    }
    return false;
  });
}

/** The origin's response headers as the viewer should get them (the edge frames the body itself). */
export function responseHeadersForViewer(raw: readonly string[]): string[] {
  const listed = connectionTokens(raw);
  return filter(raw, (name) => isHopByHop(name, listed));
}

/** Raw header bytes from undici (Buffers, latin1 on the wire) as the strings a HEAD frame carries. */
export function rawHeaderStrings(raw: readonly (Buffer | string)[]): string[] {
  return raw.map((item) => (typeof item === 'string' ? item : item.toString('latin1')));
}

/**
 * rawHeaderStrings then responseHeadersForViewer, filtering the converted list in place:
 * one array per response instead of two on the hottest path of the agent.
 */
export function viewerHeadersFromRaw(raw: readonly (Buffer | string)[]): string[] {
  const list = rawHeaderStrings(raw);
  const listed = connectionTokens(list);
  let kept = 0;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i]!;
    if (isHopByHop(name.toLowerCase(), listed)) continue;
    list[kept++] = name;
    list[kept++] = list[i + 1]!;
  }
  list.length = kept;
  return list;
}
