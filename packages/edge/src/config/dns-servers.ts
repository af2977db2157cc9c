/**
 * Parses the edge's `domains.resolver` setting: DNS servers as `ip` or `ip:port`
 * (`[IPv6]:port` with brackets), given as a list or one comma-separated string.
 */
import { isIP } from 'node:net';

/** The requirement every resolver problem states, so messages read "domains.resolver ... must be <this>". */
export const DNS_SERVERS_REQUIREMENT =
  'a list (or comma-separated string) of DNS servers as ip or ip:port, e.g. 127.0.0.1:5353 or [::1]:53 (empty for the system resolver)';

export type DnsServersParse = { ok: true; servers: string[] } | { ok: false; requirement: string };

function fail(entry: string, detail: string): DnsServersParse {
  return { ok: false, requirement: `${DNS_SERVERS_REQUIREMENT} ("${entry}": ${detail})` };
}

function validPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/**
 * Each server comes back in the form `dns.Resolver#setServers` takes (`1.2.3.4`,
 * `1.2.3.4:5353`, `::1`, `[::1]:5353`), so a bad entry is a config error at startup rather
 * than a throw inside the verifier. Host names are refused: resolving the resolver would
 * need a resolver. Never throws.
 */
export function parseDnsServers(value: string | readonly string[]): DnsServersParse {
  const entries = (typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(',')))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const servers: string[] = [];
  for (const entry of entries) {
    if (isIP(entry) !== 0) {
      servers.push(entry);
      continue;
    }
    const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
    if (bracketed !== null) {
      if (isIP(bracketed[1]!) !== 6) return fail(entry, 'brackets must hold an IPv6 address');
      if (!validPort(bracketed[2]!)) return fail(entry, 'the port must be from 1 to 65535');
      servers.push(entry);
      continue;
    }
    const colon = entry.lastIndexOf(':');
    if (colon < 0) return fail(entry, 'not an IP address');
    const host = entry.slice(0, colon);
    if (isIP(host) !== 4) {
      return fail(entry, host.includes(':') ? 'IPv6 with a port needs brackets' : 'not an IP address');
    }
    if (!validPort(entry.slice(colon + 1))) return fail(entry, 'the port must be from 1 to 65535');
    servers.push(entry);
  }
  return { ok: true, servers };
}
