/**
 * Parses where a tunnel forwards to: `3000`, `:3000`, `localhost:3000`, `[::1]:3000`,
 * `http://host:port` or `https://host`. The result is an origin URL (scheme, host, port).
 */
import { TunnelError } from '@burrow/protocol';

/**
 * A bare port means 127.0.0.1, not `localhost`: Node resolves `localhost` to ::1 first on
 * many systems while dev servers often listen on IPv4 only, which would fail as "refused".
 */
const LOOPBACK = '127.0.0.1';

export const TARGET_REQUIREMENT = 'a port (3000), host:port (localhost:3000) or URL (http://localhost:3000)';
const PORT_REQUIREMENT = 'a port from 1 to 65535';

export type TargetParse = { ok: true; origin: URL } | { ok: false; requirement: string };

function fail(requirement: string): TargetParse {
  return { ok: false, requirement };
}

function validPort(text: string): boolean {
  const port = Number(text);
  return port >= 1 && port <= 65535;
}

function fromHostPort(host: string, port: string): TargetParse {
  if (!validPort(port)) return fail(PORT_REQUIREMENT);
  const url = `http://${host === '' ? LOOPBACK : host}:${port}`;
  if (!URL.canParse(url)) return fail(`${TARGET_REQUIREMENT} with a valid host`);
  return { ok: true, origin: new URL(new URL(url).origin) };
}

function fromUrl(text: string): TargetParse {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return fail('an http:// or https:// URL');
  const port = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*)(?::(\d*))?/i.exec(text)?.[1];
  if (port !== undefined && port !== '' && !validPort(port)) return fail(PORT_REQUIREMENT);
  if (!URL.canParse(text)) return fail(TARGET_REQUIREMENT);
  const url = new URL(text);
  if (url.username !== '' || url.password !== '') return fail('a URL without user:password');
  // The viewer's path is forwarded as is, so a path here would have no meaning.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return fail('a URL without a path, query or fragment');
  }
  return { ok: true, origin: new URL(url.origin) };
}

/** Never throws: the config loader turns a failure into a problem naming the setting. */
export function tryParseTarget(target: string): TargetParse {
  const text = target.trim();
  if (/^\d+$/.test(text)) return fromHostPort('', text);
  if (text.includes('://')) return fromUrl(text);
  const hostPort = /^(\[[^\]]*\]|[^:[\]/]*):(\d+)$/.exec(text);
  if (hostPort !== null) return fromHostPort(hostPort[1] ?? '', hostPort[2] ?? '');
  return fail(TARGET_REQUIREMENT);
}

/** For `burrow http <target>`; throws TUN_ERR_CONFIG_INVALID saying what a target must be. */
export function parseTarget(target: string): URL {
  const parsed = tryParseTarget(target);
  if (parsed.ok) return parsed.origin;
  throw new TunnelError(
    'TUN_ERR_CONFIG_INVALID',
    `invalid target ${JSON.stringify(target)}: must be ${parsed.requirement}`,
  );
}
