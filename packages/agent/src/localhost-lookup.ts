/**
 * RFC 6761 §6.3: every name under `.localhost` is the loopback host. Browsers and curl
 * resolve them so, but the system resolver often does not (glibc without nss-myhostname),
 * so an edge at `dev.localhost` (what `--tls self-signed` suggests for tunnel names) would be
 * unreachable from the agent alone. Such names are looked up as `localhost` itself, keeping
 * the system's choice of 127.0.0.1 and ::1; every other name goes to the resolver unchanged.
 */

import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';

export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name.endsWith('.localhost');
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net/tls/http options (`net.LookupFunction`). */
export function localhostLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (!isLocalhostName(hostname)) {
    dnsLookup(hostname, options, callback as never);
    return;
  }
  const answer: LookupCallback = (err, address, family) => {
    // A failure names the host that was asked for, not the stand-in.
    if (err !== null) {
      err.message = err.message.replace('localhost', hostname);
      (err as NodeJS.ErrnoException & { hostname?: string }).hostname = hostname;
    }
    callback(err, address, family);
  };
  dnsLookup('localhost', options, answer as never);
}
