/**
 * Custom domain hostnames and their DNS verification record. A user proves they control
 * `app.example.org` by publishing the domain's token as a TXT record at
 * `_burrow.app.example.org`; looking it up is the edge's resolver's job, not the store's.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { TunnelError } from '@burrow/protocol';

/** The label under which the TXT record lives: `_burrow.<hostname>`. */
export const DOMAIN_VERIFICATION_LABEL = '_burrow';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_HOSTNAME_LENGTH = 253;

/** Trimmed, lower-cased, without one trailing dot: how hostnames are compared and stored. */
function lenient(raw: string): string {
  const host = raw.trim().toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function invalid(raw: string, why: string): TunnelError {
  return new TunnelError('TUN_ERR_NAME_INVALID', `"${raw}" is not a valid custom domain: ${why}`);
}

/**
 * The hostname as stored: lower-case ASCII (international names in punycode), no trailing
 * dot. Throws TUN_ERR_NAME_INVALID saying what is wrong for anything but a full DNS name of
 * two or more labels (no IP addresses, wildcards, ports or single labels).
 */
export function normalizeDomainHostname(raw: unknown): string {
  if (typeof raw !== 'string') throw invalid(String(raw), 'it must be a string such as app.example.org');
  const host = lenient(raw);
  if (isIP(host) !== 0 || isIP(host.replace(/^\[|\]$/g, '')) !== 0) {
    throw invalid(raw, 'it is an IP address; use a DNS name such as app.example.org');
  }
  if (host.includes('*')) throw invalid(raw, 'wildcards are not supported; add each hostname');
  if (host.includes(':') || host.includes('/')) {
    throw invalid(raw, 'give only the hostname, without scheme, port or path (e.g. app.example.org)');
  }
  // International names become punycode; anything else domainToASCII refuses comes back ''.
  const ascii = /^[\x21-\x7e]*$/.test(host) ? host : domainToASCII(host);
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > MAX_HOSTNAME_LENGTH || !labels.every((label) => LABEL.test(label))) {
    throw invalid(
      raw,
      'use a DNS name such as app.example.org: labels of 1-63 letters, digits or hyphens, not starting or ending with a hyphen, at most 253 characters',
    );
  }
  if (labels.length < 2) throw invalid(raw, 'use a full name with a dot, such as app.example.org');
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) throw invalid(raw, 'the last label cannot be all digits');
  return ascii;
}

/** Lenient form for lookups (a Host header, a CLI argument): never throws. */
export function lookupDomainHostname(raw: unknown): string {
  return typeof raw === 'string' ? lenient(raw) : '';
}

/** The DNS record a user publishes to verify `hostname`. */
export interface DomainVerificationRecord {
  /** `_burrow.<hostname>` */
  name: string;
  type: 'TXT';
  /** The domain's verification token, the whole TXT value. */
  value: string;
}

export function domainVerificationRecord(hostname: string, token: string): DomainVerificationRecord {
  return { name: `${DOMAIN_VERIFICATION_LABEL}.${hostname}`, type: 'TXT', value: token };
}
