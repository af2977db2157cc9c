/** Parses the edge's `listen` setting: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or a bare `PORT`. */
import { isIP } from 'node:net';
import type { ListenAddress } from './edge-config.js';
import { isHostname } from './hostname.js';

/** The requirement every listen problem states, so messages read "listen ... must be <this>". */
export const LISTEN_REQUIREMENT = 'a "host:port" address such as 0.0.0.0:8080, [::1]:8080 or :8080';

/** All interfaces, IPv4. `::` would also take IPv6 but fails on hosts with IPv6 disabled. */
export const ANY_HOST = '0.0.0.0';
/** What a bare port means for metricsListen: its listener is unauthenticated. */
export const LOOPBACK_HOST = '127.0.0.1';

export type ListenParse = { ok: true; address: ListenAddress } | { ok: false; requirement: string };

function fail(detail: string): ListenParse {
  return { ok: false, requirement: `${LISTEN_REQUIREMENT} (${detail})` };
}

/**
 * Never throws: the schema turns a failure into a setting problem with its source.
 * `bareHost` is the host of a bare `PORT` or `:PORT` (all interfaces unless told).
 */
export function parseListenAddress(text: string, bareHost: string = ANY_HOST): ListenParse {
  const trimmed = text.trim();
  let hostPart: string;
  let portPart: string;
  if (/^\d+$/.test(trimmed)) {
    hostPart = '';
    portPart = trimmed;
  } else {
    const colon = trimmed.lastIndexOf(':');
    if (colon < 0) return fail('the port is missing');
    hostPart = trimmed.slice(0, colon);
    portPart = trimmed.slice(colon + 1);
  }
  if (!/^\d+$/.test(portPart)) return fail('the port must be digits');
  const port = Number(portPart);
  if (port > 65535) return fail('the port must be from 0 to 65535');

  if (hostPart === '') return { ok: true, address: { host: bareHost, port } };
  if (hostPart.startsWith('[') && hostPart.endsWith(']')) {
    const inner = hostPart.slice(1, -1);
    if (isIP(inner) !== 6) return fail('brackets must hold an IPv6 address');
    return { ok: true, address: { host: inner, port } };
  }
  // An unbracketed IPv6 host is ambiguous ("::1:8080"), so ask for brackets rather than guess.
  if (hostPart.includes(':')) return fail('IPv6 hosts need brackets, e.g. [::1]:8080');
  const looksNumeric = /^[\d.]+$/.test(hostPart);
  const validHost = looksNumeric ? isIP(hostPart) === 4 : isHostname(hostPart);
  if (!validHost) return fail('the host is not a valid name or IP address');
  return { ok: true, address: { host: hostPart.toLowerCase(), port } };
}
