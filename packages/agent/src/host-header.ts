/**
 * The Host header the origin gets. By default the viewer's (the public name) passes
 * through; dev servers that check Host against their own address (Vite, webpack, Nuxt)
 * answer that with 403 "Invalid Host header", so a tunnel can send the origin's host:port or
 * a fixed value instead. Applied to ordinary requests and upgrades alike.
 */

import type { HostHeader } from './config/index.js';

/**
 * The Host value to send to `origin`, or null to leave the viewer's unchanged. `rewrite`
 * gives what a browser pointed at the origin would send: `127.0.0.1:5173`, `[::1]:3000`, and
 * no port when it is the scheme's default.
 */
export function hostHeaderValue(hostHeader: HostHeader, origin: URL): string | null {
  if (hostHeader === 'preserve') return null;
  if (hostHeader === 'rewrite') return origin.host;
  return hostHeader;
}

/**
 * A copy of the flat raw header list with the first Host's value set to `host` (its name's
 * case and its position kept) and any later Host dropped, since two would contradict each
 * other; appended when there was none. Every other header is untouched.
 */
export function withHostHeader(raw: readonly string[], host: string): string[] {
  const out: string[] = [];
  let replaced = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.toLowerCase() !== 'host') out.push(name, raw[i + 1]!);
    else if (!replaced) {
      out.push(name, host);
      replaced = true;
    }
  }
  if (!replaced) out.push('Host', host);
  return out;
}
