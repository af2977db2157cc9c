/**
 * Turns a refused DNS UPDATE into an error an operator can act on: the RCODE and TSIG error
 * by name (what the server's log and RFCs call them), then what to check. Never includes the
 * secret.
 */
import { TunnelError } from '@burrow/protocol';
import { rcodeName } from './dns-wire.js';

export interface RefusedUpdate {
  readonly fqdn: string;
  readonly zone: string;
  readonly server: string;
  readonly keyName: string;
  readonly algorithm: string;
  readonly rcode: number;
  /** The TSIG error from the answer's TSIG record, 0 when none. */
  readonly tsigError: number;
}

function advice(u: RefusedUpdate): string {
  switch (rcodeName(u.tsigError)) {
    case 'BADSIG':
      return `the server could not verify the signature: the secret of key "${u.keyName}" differs from the server's`;
    case 'BADKEY':
      return `the server does not know key "${u.keyName}" with algorithm ${u.algorithm}: check the key name and algorithm in both places`;
    case 'BADTIME':
      return "the signing time is more than the allowed fudge away from the server's clock: synchronise both clocks (NTP)";
  }
  switch (rcodeName(u.rcode)) {
    case 'NOTAUTH':
      return `the server is not authoritative for zone ${u.zone}: point the update at the zone's primary server, or set the right zone`;
    case 'NOTZONE':
      return `${u.fqdn} is not inside zone ${u.zone}: set the zone to the one that holds the name (or leave it unset to find it)`;
    case 'REFUSED':
      return `the server refused the update: allow key "${u.keyName}" to update ${u.zone} (BIND: allow-update or update-policy)`;
    case 'SERVFAIL':
      return 'the server failed to apply it: see its log (a read-only zone file or journal?)';
    case 'NOTIMP':
      return 'the server does not implement dynamic updates: use one that does, or the exec hook';
    default:
      return "see the server's log";
  }
}

export function refusedUpdateError(u: RefusedUpdate): TunnelError {
  const codes = u.tsigError === 0 ? rcodeName(u.rcode) : `${rcodeName(u.rcode)}/${rcodeName(u.tsigError)}`;
  return new TunnelError(
    'TUN_ERR_DNS_UPDATE_FAILED',
    `DNS UPDATE of ${u.fqdn} in zone ${u.zone} at ${u.server} failed with ${codes}: ${advice(u)}`,
  );
}
