/**
 * Builds the DNS-01 publisher the `acme.dns` settings describe: RFC 2136 when a server is
 * set, the exec hook when a hook is set, none otherwise. The settings schema has already
 * checked that the two are not both set and that a server comes with its TSIG key.
 */
import { TunnelError } from '@burrow/protocol';
import { ExecHookPublisher } from './exec-hook-publisher.js';
import type { DnsChallengePublisher } from './publisher.js';
import { Rfc2136Publisher } from './rfc2136-publisher.js';
import type { DnsServerAddress } from './dns-transport.js';
import type { TsigAlgorithm } from './tsig.js';

/** `EdgeConfig['acme']['dns']`: where DNS-01 challenge records go (config/ uses this type). */
export interface DnsPublishingSettings {
  /** The zone's primary, which takes signed dynamic updates; null when not using RFC 2136. */
  readonly server: DnsServerAddress | null;
  /** Absolute and lower-case (`example.com.`); null finds it by SOA queries to `server`. */
  readonly zone: string | null;
  readonly tsigKeyName: string | null;
  readonly tsigAlgorithm: TsigAlgorithm;
  /** Base64. Never log it. */
  readonly tsigSecret: string | null;
  /** How long to wait for the authoritative servers to answer a published value. */
  readonly propagationTimeoutMs: number;
  /** Absolute path of `<hook> publish|unpublish <fqdn> <value>`; null when not using a hook. */
  readonly hook: string | null;
  readonly hookTimeoutMs: number;
}

export function dnsPublisherFromSettings(settings: DnsPublishingSettings): DnsChallengePublisher | null {
  if (settings.hook !== null)
    return new ExecHookPublisher({ path: settings.hook, timeoutMs: settings.hookTimeoutMs });
  if (settings.server === null) return null;
  if (settings.tsigKeyName === null || settings.tsigSecret === null) {
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      'acme.dns.server needs acme.dns.tsigKeyName and acme.dns.tsigSecret',
    );
  }
  return new Rfc2136Publisher({
    server: settings.server,
    zone: settings.zone,
    key: { name: settings.tsigKeyName, algorithm: settings.tsigAlgorithm, secret: settings.tsigSecret },
    propagationTimeoutMs: settings.propagationTimeoutMs,
  });
}
