/**
 * Finds the zone that holds a name by asking the update server for its SOA, walking up one
 * label at a time (RFC 2136 §4: an update is addressed to a zone). An authoritative server
 * answers with the zone's SOA in the answer (the name is the apex) or the authority section
 * (a name inside the zone); a server that holds no zone for the name refuses, so go up.
 */
import { TunnelError } from '@burrow/protocol';
import { RR_TYPE, canonicalName } from './dns-wire.js';
import { formatServer, type DnsServerAddress } from './dns-transport.js';
import { queryServer } from './dns-query.js';

export async function findZone(server: DnsServerAddress, fqdn: string, timeoutMs: number): Promise<string> {
  const labels = canonicalName(fqdn).slice(0, -1).split('.');
  // One query per label at most: the walk ends at the top-level domain.
  for (let i = 0; i < labels.length; i++) {
    const name = `${labels.slice(i).join('.')}.`;
    const answer = await queryServer(server, name, RR_TYPE.SOA, timeoutMs);
    if (answer.authoritative) {
      const soa = [...answer.answers, ...answer.authority].find((rr) => rr.type === RR_TYPE.SOA);
      if (soa !== undefined) return soa.name;
    }
  }
  throw new TunnelError(
    'TUN_ERR_DNS_UPDATE_FAILED',
    `no zone holding ${canonicalName(fqdn)} was found at ${formatServer(server)} (it answers no SOA for the name or any parent): set the zone explicitly, or point the update at the zone's primary server`,
  );
}
