/** DNS-01 challenge publishing: RFC 2136 with TSIG, or an operator's exec hook. */
export type { DnsChallengePublisher } from './publisher.js';
export { Rfc2136Publisher, type Rfc2136Options } from './rfc2136-publisher.js';
export { TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from './tsig.js';
export { formatServer, type DnsServerAddress } from './dns-transport.js';
export { ExecHookPublisher, type ExecHookOptions } from './exec-hook-publisher.js';
export { dnsPublisherFromSettings, type DnsPublishingSettings } from './publisher-from-settings.js';
