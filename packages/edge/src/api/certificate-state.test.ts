import { describe, expect, it } from 'vitest';
import { useApiEdge } from './test-support/api-edge.js';

const rig = useApiEdge('burrow-api-certs-');

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${rig.edge.port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${rig.key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

describe('certificate state in the control API', () => {
  it("shows a tunnel's certificate: issuer, validity, no key", async () => {
    await api('PUT', '/tunnels/shop');
    expect((await api('GET', '/tunnels/shop'))['certificate']).toBeNull();
    await rig.edge.store.saveCertificate({
      name: 'shop.burrow.test',
      hosts: ['shop.burrow.test'],
      origin: 'acme-http-01',
      certPem: 'PEM',
      keySealed: 'v1.sealed',
      notBefore: new Date('2030-01-01T00:00:00.000Z'),
      notAfter: new Date('2030-04-01T00:00:00.000Z'),
      issuer: 'Pebble Intermediate CA',
    });
    const tunnel = await api('GET', '/tunnels/shop');
    expect(tunnel['certificate']).toEqual({
      origin: 'acme-http-01',
      issuer: 'Pebble Intermediate CA',
      notBefore: '2030-01-01T00:00:00.000Z',
      notAfter: '2030-04-01T00:00:00.000Z',
      lastError: null,
      lastAttemptAt: expect.any(String) as unknown,
      nextAttemptAt: null,
      renewRequested: false,
    });
    expect(JSON.stringify(tunnel)).not.toContain('v1.sealed');
  });

  it("shows a custom domain's failed order with its last error", async () => {
    await api('POST', '/domains', { hostname: 'www.shop-example.org', tunnel: 'shop' });
    await rig.edge.store.recordCertificateFailure({
      name: 'www.shop-example.org',
      hosts: ['www.shop-example.org'],
      origin: 'acme-http-01',
      error: 'TUN_ERR_ACME_ORDER_FAILED: connect ECONNREFUSED',
      nextAttemptAt: new Date('2030-01-01T00:05:00.000Z'),
    });
    const domain = await api('GET', '/domains/www.shop-example.org');
    expect(domain['certificate']).toMatchObject({
      issuer: null,
      notAfter: null,
      lastError: 'TUN_ERR_ACME_ORDER_FAILED: connect ECONNREFUSED',
      nextAttemptAt: '2030-01-01T00:05:00.000Z',
    });
  });

  it('shows the `*.<domain>` wildcard for a tunnel without its own certificate', async () => {
    await api('PUT', '/tunnels/blog');
    await rig.edge.store.saveCertificate({
      name: '*.burrow.test',
      hosts: ['*.burrow.test', 'burrow.test'],
      origin: 'acme-dns-01',
      certPem: 'PEM',
      keySealed: 'v1.sealed',
      notBefore: new Date('2030-01-01T00:00:00.000Z'),
      notAfter: new Date('2030-04-01T00:00:00.000Z'),
      issuer: 'Pebble Intermediate CA',
    });
    expect((await api('GET', '/tunnels/blog'))['certificate']).toMatchObject({
      origin: 'acme-dns-01',
      notAfter: '2030-04-01T00:00:00.000Z',
    });
    // A tunnel's own certificate still comes first.
    expect((await api('GET', '/tunnels/shop'))['certificate']).toMatchObject({ origin: 'acme-http-01' });
  });
});
