/**
 * Keeps a tunnel's cookies to that tunnel. Tunnels share the edge's base domain, and a
 * browser only refuses `Domain=<base domain>` cookies when that domain is on the Public
 * Suffix List, so an origin could otherwise set cookies every other tunnel's viewers send.
 * A Domain attribute naming anything but the tunnel's own host is removed, which makes the
 * cookie host-only (RFC 6265 §5.3 step 6).
 */

/**
 * `value` (one Set-Cookie field) without a Domain attribute that names anything but
 * `host`; with `host` null (a path-routed tunnel on the edge's own host) every Domain goes.
 */
export function scopeSetCookie(value: string, host: string | null): string {
  // Fast path: most cookies carry no Domain at all.
  if (!/;\s*domain\s*=/i.test(value)) return value;
  const parts = value.split(';');
  const kept = [parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === 'domain' && !isOwnHost(part.slice(eq + 1), host)) continue;
    kept.push(part);
  }
  return kept.join(';');
}

/** RFC 6265 §5.2.3: a leading dot is ignored and the comparison is case-insensitive. */
function isOwnHost(domain: string, host: string | null): boolean {
  if (host === null) return false;
  const d = domain.trim().toLowerCase();
  return (d.startsWith('.') ? d.slice(1) : d) === host;
}
