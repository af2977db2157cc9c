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

/** The shape of `EdgeConfig['acme']['dns']`, restated so this part needs nothing from config/. */
export interface DnsPublishingSettings {
  readonly server: DnsServerAddress | null;
  readonly zone: string | null;
  readonly tsigKeyName: string | null;
  readonly tsigAlgorithm: TsigAlgorithm;
  readonly tsigSecret: string | null;
  readonly propagationTimeoutMs: number;
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
