import { describe, expect, it } from 'vitest';
import { ExecHookPublisher } from './exec-hook-publisher.js';
import { dnsPublisherFromSettings, type DnsPublishingSettings } from './publisher-from-settings.js';
import { Rfc2136Publisher } from './rfc2136-publisher.js';

const NONE: DnsPublishingSettings = {
  server: null,
  zone: null,
  tsigKeyName: null,
  tsigAlgorithm: 'hmac-sha256',
  tsigSecret: null,
  propagationTimeoutMs: 120_000,
  hook: null,
  hookTimeoutMs: 180_000,
};

describe('dnsPublisherFromSettings', () => {
  it('gives no publisher when neither a server nor a hook is set', () => {
    expect(dnsPublisherFromSettings(NONE)).toBeNull();
  });

  it('gives the exec hook publisher for a hook, the RFC 2136 one for a server', () => {
    expect(dnsPublisherFromSettings({ ...NONE, hook: '/usr/local/bin/dns-hook' })).toBeInstanceOf(
      ExecHookPublisher,
    );
    expect(
      dnsPublisherFromSettings({
        ...NONE,
        server: { host: '127.0.0.1', port: 53 },
        tsigKeyName: 'k',
        tsigSecret: 'c2VjcmV0',
      }),
    ).toBeInstanceOf(Rfc2136Publisher);
  });
});
