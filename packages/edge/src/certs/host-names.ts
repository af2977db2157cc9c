/** How the book spells host names, so SNI and SAN names meet in one map. */

/** Lower-case, without a trailing dot: `App.Example.COM.` -> `app.example.com`. */
export function normalizeHost(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The wildcard that may cover `host`: `a.example.com` -> `*.example.com`. A wildcard covers
 * exactly one left-most label (RFC 6125 6.4.3), so `a.b.example.com` is covered only by
 * `*.b.example.com`; a single-label name has none.
 */
export function wildcardFor(host: string): string | undefined {
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return undefined;
  return `*${host.slice(dot)}`;
}
