/**
 * DNS-01 publishing through RFC 2136 dynamic updates signed with TSIG, against a real BIND
 * `named` on loopback. What the server holds is read back with Node's own resolver, not the
 * publisher's queries, so a publisher that only believes itself cannot pass.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelError } from '../../packages/protocol/src/index.js';
import {
  dnsPublisherFromSettings,
  Rfc2136Publisher,
  type Rfc2136Options,
} from '../../packages/edge/src/certs/dns/index.js';
import { loadEdgeConfig } from '../../packages/edge/src/config/index.js';
import { startNamed, type NamedServer } from './support/named.js';

const NAME = '_acme-challenge.tunnel.test.';

let named: NamedServer;

beforeAll(async () => {
  named = await startNamed({ zones: ['tunnel.test.', 'other.test.'] });
});
afterAll(async () => {
  await named?.stop();
});

function publisherFor(server: NamedServer, overrides: Partial<Rfc2136Options> = {}): Rfc2136Publisher {
  return new Rfc2136Publisher({
    server: { host: server.host, port: server.port },
    key: server.key,
    propagationTimeoutMs: 5_000,
    pollIntervalMs: 100,
    ...overrides,
  });
}

async function txtAt(server: NamedServer, fqdn: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([server.address]);
  try {
    return (await resolver.resolveTxt(fqdn)).map((strings) => strings.join('')).sort();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENODATA' || (err as { code?: string }).code === 'ENOTFOUND')
      return [];
    throw err;
  }
}

/** Runs `action`, expecting it to reject with a TunnelError; returns it and how long it took. */
async function failure(action: () => Promise<unknown>): Promise<{ error: TunnelError; ms: number }> {
  const started = performance.now();
  const error = await action().then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  // By name: the edge's sources import @burrow/protocol's build, another copy of the class.
  expect(error).toMatchObject({ name: 'TunnelError' });
  return { error: error as TunnelError, ms: performance.now() - started };
}

/**
 * A UDP relay in front of named that passes requests through and changes each answer with
 * `alter`: what an attacker on the path could do. One upstream socket per relay is enough
 * for one exchange at a time.
 */
async function relayTo(
  server: NamedServer,
  alter: (answer: Buffer) => Buffer,
): Promise<{ port: number; close: () => void }> {
  const front: Socket = createSocket('udp4');
  const back: Socket = createSocket('udp4');
  let client: { address: string; port: number } | undefined;
  front.on('message', (msg, from) => {
    client = from;
    back.send(msg, server.port, server.host);
  });
  back.on('message', (msg) => {
    if (client !== undefined) front.send(alter(Buffer.from(msg)), client.port, client.address);
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    close: () => {
      front.close();
      back.close();
    },
  };
}

describe('RFC 2136 publisher against named', () => {
  it('adds a second TXT value beside the first (wildcard and apex share one name) and removes each alone; zone found by SOA', async () => {
    const publisher = publisherFor(named);
    await publisher.publish(NAME, 'value-for-wildcard');
    await publisher.publish(NAME, 'value-for-apex');
    expect(await txtAt(named, NAME)).toEqual(['value-for-apex', 'value-for-wildcard']);
    // unpublish removes only its own value (class NONE deletes one RR, not the set).
    await publisher.unpublish(NAME, 'value-for-wildcard');
    expect(await txtAt(named, NAME)).toEqual(['value-for-apex']);
    await publisherFor(named, { zone: 'tunnel.test.' }).unpublish(NAME, 'value-for-apex');
    expect(await txtAt(named, NAME)).toEqual([]);
  });

  it('the edge settings (acme.dns.*) make a working publisher', async () => {
    const config = loadEdgeConfig({
      cwd: '/',
      flags: { acmeDnsServer: named.address, acmeDnsTsigKeyName: named.key.name },
      env: { BURROW_ACME_DNS_TSIG_SECRET: named.key.secret, BURROW_ACME_DNS_PROPAGATION_TIMEOUT_MS: '5000' },
    });
    const publisher = dnsPublisherFromSettings(config.acme.dns)!;
    const name = '_acme-challenge.settings.tunnel.test.';
    await publisher.publish(name, 'from-settings');
    expect(await txtAt(named, name)).toEqual(['from-settings']);
    await publisher.unpublish(name, 'from-settings');
    expect(await txtAt(named, name)).toEqual([]);
  });

  it('falls back to TCP when the TXT answer does not fit a UDP datagram', async () => {
    const publisher = publisherFor(named, { propagationTimeoutMs: 1_500 });
    const name = '_acme-challenge.big.tunnel.test.';
    // 700 bytes: three character-strings, and an answer past 512 bytes, so BIND truncates it
    // over UDP to no records at all; only the TCP answer holds the value publish waits for.
    const value = Array.from({ length: 700 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    await publisher.publish(name, value);
    expect(await txtAt(named, name)).toEqual([value]);
  });

  it('a wrong TSIG secret fails at once with NOTAUTH/BADSIG and creates nothing', async () => {
    const wrong = { ...named.key, secret: Buffer.alloc(32, 7).toString('base64') };
    const publisher = publisherFor(named, { key: wrong, zone: 'tunnel.test.', propagationTimeoutMs: 20_000 });
    const { error, ms } = await failure(() => publisher.publish(NAME, 'never-created'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/NOTAUTH/);
    expect(error.message).toMatch(/BADSIG/);
    expect(error.message).toContain(named.key.name);
    expect(error.message).not.toContain(wrong.secret);
    expect(ms).toBeLessThan(3_000);
    expect(await txtAt(named, NAME)).toEqual([]);
  });

  it('an unknown key name fails with BADKEY', async () => {
    const publisher = publisherFor(named, {
      key: { ...named.key, name: 'nobody-knows-me.' },
      zone: 'tunnel.test.',
    });
    const { error } = await failure(() => publisher.publish(NAME, 'never-created'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/BADKEY/);
  });

  it('a clock an hour off fails with BADTIME', async () => {
    const publisher = publisherFor(named, { zone: 'tunnel.test.', now: () => Date.now() + 3_600_000 });
    const { error } = await failure(() => publisher.publish(NAME, 'never-created'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/BADTIME/);
  });

  it('a name outside the configured zone fails with NOTZONE', async () => {
    const publisher = publisherFor(named, { zone: 'tunnel.test.' });
    const { error, ms } = await failure(() => publisher.publish('_acme-challenge.other.test.', 'x'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/NOTZONE/);
    expect(ms).toBeLessThan(3_000);
  });

  it('a zone the server is not authoritative for fails with NOTAUTH', async () => {
    const publisher = publisherFor(named, { zone: 'elsewhere.test.' });
    const { error } = await failure(() => publisher.publish('_acme-challenge.elsewhere.test.', 'x'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/NOTAUTH/);
  });

  it('without a configured zone, a name under no zone of the server says so', async () => {
    const publisher = publisherFor(named);
    const { error } = await failure(() => publisher.publish('_acme-challenge.nowhere.example.', 'x'));
    expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(error.message).toMatch(/no zone/i);
  });

  it('gives up with a clear error when an authoritative server never shows the record', async () => {
    // A second primary for the same zone that never gets the update: the record never shows there.
    const stale = await startNamed({
      zones: ['tunnel.test.'],
      records: { 'tunnel.test.': ['_acme-challenge IN TXT "left-over"'] },
    });
    try {
      const publisher = publisherFor(named, {
        authoritativeServers: [
          { host: named.host, port: named.port },
          { host: stale.host, port: stale.port },
        ],
        propagationTimeoutMs: 1_000,
      });
      const { error, ms } = await failure(() => publisher.publish(NAME, 'only-on-one'));
      expect(error.code).toBe('TUN_ERR_DNS_PROPAGATION_TIMEOUT');
      expect(error.message).toContain(stale.address);
      expect(error.message).toContain('NOERROR with 1 other TXT value(s)');
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(4_000);
      expect(await txtAt(named, NAME)).toEqual(['only-on-one']);
      await publisher.unpublish(NAME, 'only-on-one');
    } finally {
      await stale.stop();
    }
  });

  it('refuses a NOERROR answer altered on the way (TSIG of the answer checked)', async () => {
    // Upper-casing the zone name's first letter: still a valid answer, but not what named signed.
    const relay = await relayTo(named, (answer) => {
      answer[13] = answer[13]! & ~0x20;
      return answer;
    });
    try {
      const publisher = publisherFor(named, {
        server: { host: '127.0.0.1', port: relay.port },
        zone: 'tunnel.test.',
      });
      const { error } = await failure(() => publisher.publish(NAME, 'altered'));
      expect(error.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
      expect(error.message).toMatch(/cannot be trusted: .*signature does not verify/);
    } finally {
      relay.close();
      await publisherFor(named).unpublish(NAME, 'altered');
    }
  });

  it('refuses an unsigned NOERROR answer', async () => {
    // Drop the TSIG record (the only additional record) and clear ARCOUNT.
    const relay = await relayTo(named, (answer) => {
      const zoneEnd = answer.indexOf(0, 12) + 5;
      const stripped = Buffer.from(answer.subarray(0, zoneEnd));
      stripped.writeUInt16BE(0, 10);
      return stripped;
    });
    try {
      const publisher = publisherFor(named, {
        server: { host: '127.0.0.1', port: relay.port },
        zone: 'tunnel.test.',
      });
      const { error } = await failure(() => publisher.publish(NAME, 'stripped'));
      expect(error.message).toMatch(/cannot be trusted: the answer is not signed/);
    } finally {
      relay.close();
      await publisherFor(named).unpublish(NAME, 'stripped');
    }
  });

  it.each(['hmac-sha512', 'hmac-sha1'] as const)('signs with %s too', async (algorithm) => {
    const server = await startNamed({ algorithm });
    try {
      await publisherFor(server).publish(NAME, `signed-${algorithm}`);
      expect(await txtAt(server, NAME)).toEqual([`signed-${algorithm}`]);
    } finally {
      await server.stop();
    }
  });
});
