/**
 * The TLS options for connecting to an https:// origin, computed once per route from the
 * tunnel's `originTls` and shared by the pooled HTTP requests (undici), upgrades and the
 * asterisk form (node:https), so every path verifies the same way.
 */
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { OriginTls } from './config/index.js';

export interface OriginTlsOptions {
  readonly rejectUnauthorized: boolean;
  /**
   * SNI and the name the certificate must carry: the configured server name, else the
   * origin's host, or '' (no SNI, the address is checked) for an IP. Always set, because
   * Node and undici would otherwise take it from the Host header, the tunnel's public name.
   */
  readonly servername: string;
  /** Node's roots plus the configured CAs; undefined for Node's roots alone. */
  readonly ca: readonly string[] | undefined;
  /** Identifies these options, so origins with different TLS settings never share a pool. */
  readonly key: string;
}

/** For an http:// origin, which has no TLS: never read. */
const NO_TLS: OriginTls = { verify: true, ca: null, serverName: null };

export function originTlsOptions(origin: URL, tls: OriginTls = NO_TLS): OriginTlsOptions {
  const host = origin.hostname.replace(/^\[(.*)\]$/, '$1');
  const servername = tls.serverName ?? (isIP(host) === 0 ? host : '');
  return {
    rejectUnauthorized: tls.verify,
    servername,
    ca: tls.ca === null ? undefined : [...rootCertificates, tls.ca],
    key: `${tls.verify ? 'verify' : 'no-verify'} ${servername} ${tls.ca ?? ''}`,
  };
}

/** The options node:https takes for the same verification (upgrades, the asterisk form). */
export function httpsOptions(tls: OriginTlsOptions): {
  rejectUnauthorized: boolean;
  servername: string;
  ca?: string[];
} {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    servername: tls.servername,
    ...(tls.ca === undefined ? {} : { ca: [...tls.ca] }),
  };
}
