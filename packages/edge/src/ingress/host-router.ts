/**
 * Decides who answers a request: a tunnel (by `<name>.<domain>` Host, or `/t/<name>/…`
 * on the edge's own host, for setups without wildcard DNS) or the edge itself.
 */

export type Route =
  | { kind: 'tunnel'; name: string; path: string; prefix: string | null }
  | { kind: 'edge'; path: string }
  /** A Host that is neither the edge's domain nor one of its tunnels. */
  | { kind: 'unknown-host'; host: string };

const PATH_PREFIX = '/t/';

/** Lower-cases and removes the port (IPv6 literals keep their brackets). */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  const bare = colon === -1 ? host : host.slice(0, colon);
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

export class HostRouter {
  private readonly domain: string;
  private readonly suffix: string;

  constructor(domain: string) {
    this.domain = domain.toLowerCase();
    this.suffix = `.${this.domain}`;
  }

  route(hostHeader: string | undefined, path: string): Route {
    const host = normalizeHost(hostHeader);
    if (host.endsWith(this.suffix)) {
      const label = host.slice(0, -this.suffix.length);
      // One label only: a.b.domain is not a tunnel (names are single DNS labels).
      if (label.length > 0 && !label.includes('.'))
        return { kind: 'tunnel', name: label, path, prefix: null };
      return { kind: 'unknown-host', host };
    }
    // IP literals, the bare domain, or any host we do not serve tunnels on: the edge's own routes.
    if (host === this.domain || host === '' || isIpLiteral(host) || host === 'localhost') {
      return this.edgePath(path);
    }
    return { kind: 'unknown-host', host };
  }

  private edgePath(path: string): Route {
    if (!path.startsWith(PATH_PREFIX)) return { kind: 'edge', path };
    const rest = path.slice(PATH_PREFIX.length);
    const end = rest.search(/[/?]/);
    const name = (end === -1 ? rest : rest.slice(0, end)).toLowerCase();
    if (!name) return { kind: 'edge', path };
    let tail = end === -1 ? '/' : rest.slice(end);
    if (tail.startsWith('?')) tail = `/${tail}`;
    return { kind: 'tunnel', name, path: tail, prefix: `${PATH_PREFIX}${name}` };
  }
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
