/**
 * Where `/metrics` is served, on a real EdgeServer (SQLite in a temp dir, loopback): the
 * metricsListen listener (only /metrics, no key), the edge's own host (admin key only,
 * the API's error bodies otherwise), neither with metrics.enabled false; released names'
 * series go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePromText, sampleValue } from '../../../../test/support/prometheus-text.js';
import { loadEdgeConfig, type EdgeFlags } from '../config/index.js';
import { EdgeServer } from '../server.js';
import { isLoopbackHost } from './metrics-listener.js';
import type { RequestRecord } from './request-observer.js';

const started: { edge: EdgeServer | null; dir: string }[] = [];

afterEach(async () => {
  for (const { edge, dir } of started.splice(0)) {
    await edge?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function startEdge(flags: EdgeFlags = {}): Promise<EdgeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-metrics-'));
  const config = loadEdgeConfig({
    flags: { listen: '127.0.0.1:0', domain: 'burrow.test', data: dir, logLevel: 'silent', ...flags },
    env: {},
    cwd: dir,
  });
  const entry: { edge: EdgeServer | null; dir: string } = { edge: null, dir };
  started.push(entry);
  entry.edge = await EdgeServer.start({ config });
  return entry.edge;
}

function onHost(edge: EdgeServer, path: string, key?: string, method = 'GET'): Promise<Response> {
  return fetch(`http://127.0.0.1:${edge.port}${path}`, {
    method,
    headers: { host: 'burrow.test', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
  });
}

function record(tunnel: string): RequestRecord {
  return {
    id: `${tunnel}-${Math.random()}`,
    tunnel,
    userId: null,
    startedAt: new Date(),
    method: 'GET',
    path: '/',
    host: `${tunnel}.burrow.test`,
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 2,
    clientAddress: '127.0.0.1',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 0, tunnelMs: 1, originMs: 1, totalMs: 2 },
    replayOf: null,
    capture: null,
  };
}

describe('/metrics exposure', () => {
  it('serves only /metrics on metricsListen, without a key, and stops with the edge', async () => {
    const edge = await startEdge({ metricsListen: '127.0.0.1:0' });
    const port = edge.metricsPort!;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parsePromText(await res.text());
    expect(sampleValue(samples, 'burrow_sessions')).toBe(0);
    // The store's migrations and start-up reads were timed.
    expect(sampleValue(samples, 'burrow_store_query_duration_seconds_count')).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/me`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    await edge.close();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("answers /metrics on the edge's host to an admin key only, with the API's errors", async () => {
    const edge = await startEdge();
    expect(edge.metricsPort).toBeNull();
    const none = await onHost(edge, '/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="burrow"');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('TUN_ERR_UNAUTHORIZED');

    const wrong = await onHost(edge, '/metrics', 'bk_not-a-key');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-burrow-error')).toBe('TUN_ERR_UNAUTHORIZED');

    const user = await edge.store.createUser({ name: 'someone' });
    const { secret: apiKey } = await edge.store.createApiKey({
      label: 'api',
      userId: user.id,
      scopes: ['agent', 'api'],
    });
    const forbidden = await onHost(edge, '/metrics', apiKey);
    expect(forbidden.status).toBe(403);
    const body = (await forbidden.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TUN_ERR_FORBIDDEN');
    expect(body.error.message).toContain('admin');

    const { secret: adminKey } = await edge.store.createApiKey({ label: 'admin', scopes: ['api', 'admin'] });
    const ok = await onHost(edge, '/metrics?x=1', adminKey);
    expect(ok.status).toBe(200);
    expect(sampleValue(parsePromText(await ok.text()), 'burrow_tunnels')).toBe(0);
    expect((await onHost(edge, '/metrics', adminKey, 'DELETE')).status).toBe(405);
  });

  it('serves no /metrics anywhere with metrics.enabled false', async () => {
    const edge = await startEdge({ metricsEnabled: 'false' });
    expect(edge.metrics).toBeNull();
    const { secret: adminKey } = await edge.store.createApiKey({ label: 'admin', scopes: ['api', 'admin'] });
    const res = await onHost(edge, '/metrics', adminKey);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-burrow-error')).toBe('TUN_ERR_NOT_FOUND');
  });

  it("removes a named tunnel's series when its name is released through the API", async () => {
    const edge = await startEdge({ metricsListen: '127.0.0.1:0' });
    const metrics = edge.metrics!;
    const { secret: key } = await edge.store.createApiKey({ label: 'k', scopes: ['agent', 'api'] });
    const reserve = await fetch(`http://127.0.0.1:${edge.port}/api/v1/tunnels/web`, {
      method: 'PUT',
      headers: { host: 'burrow.test', authorization: `Bearer ${key}` },
    });
    expect(reserve.status).toBe(201);
    // What a BIND of the named tunnel does (gateway/tunnel-binder.ts onBound).
    metrics.admitTunnel('web');
    metrics.record(record('web'));
    const scrape = async () =>
      parsePromText(await (await fetch(`http://127.0.0.1:${edge.metricsPort}/metrics`)).text());
    expect(sampleValue(await scrape(), 'burrow_requests_total', { status_class: '2xx', tunnel: 'web' })).toBe(
      1,
    );
    const release = await fetch(`http://127.0.0.1:${edge.port}/api/v1/tunnels/web`, {
      method: 'DELETE',
      headers: { host: 'burrow.test', authorization: `Bearer ${key}` },
    });
    expect(release.status).toBe(204);
    expect((await scrape()).filter((s) => s.labels.tunnel === 'web')).toEqual([]);
  });

  it('tells loopback hosts (no warning at start) from the ones that expose the listener', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '127.example.com', 'metrics.internal'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses to start when metricsListen cannot listen', async () => {
    const first = await startEdge({ metricsListen: '127.0.0.1:0' });
    const taken = `127.0.0.1:${first.metricsPort}`;
    const failure = startEdge({ metricsListen: taken });
    await expect(failure).rejects.toMatchObject({ code: 'TUN_ERR_CONFIG_INVALID' });
    await expect(failure).rejects.toThrow(`metricsListen: cannot listen on ${taken} (EADDRINUSE)`);
  });
});
