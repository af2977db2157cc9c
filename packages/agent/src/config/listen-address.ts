/**
 * `metricsListen`: where the agent's metrics listener binds. `host:port`, `[IPv6]:port`, or
 * a bare port, which means loopback (127.0.0.1): the listener has no authentication, and an
 * inspector-style port reachable from the network is how secrets leak (ngrok#541).
 */

import { isIP } from 'node:net';

export const LISTEN_REQUIREMENT =
  'a "host:port" address such as 127.0.0.1:9091 or [::1]:9091, or a port (meaning 127.0.0.1)';

export interface ListenAddress {
  /** Bare (IPv6 without brackets), ready for `server.listen`. */
  readonly host: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
}

function port(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const value = Number(text);
  return value <= 65535 ? value : null;
}

/** The address, or null when `text` is not one. */
export function parseListenAddress(text: string): ListenAddress | null {
  const trimmed = text.trim();
  const bare = port(trimmed);
  if (bare !== null) return { host: '127.0.0.1', port: bare };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(trimmed);
  if (match === null) return null;
  const host = match[1] ?? match[2]!;
  const p = port(match[3]!);
  if (p === null) return null;
  if (match[1] !== undefined && isIP(host) !== 6) return null;
  if (match[2] !== undefined && isIP(host) !== 4 && !/^[a-z0-9.-]+$/i.test(host)) return null;
  return { host, port: p };
}
