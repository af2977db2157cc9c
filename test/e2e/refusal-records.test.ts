/**
 * Requests the edge refuses before any exchange exists, end to end: a real edge (per-address
 * rate limit, its metrics listener), a real `burrow http` agent serving a named tunnel, real
 * clients from distinct loopback addresses. Each refusal is one access-log line with its
 * status and code and one count in `burrow_requests_total` (scraped over HTTP); those made to
 * the named tunnel are in its statistics; none is stored in the history.
 */

import { join } from 'node:path';
import { Agent as Dispatcher, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../packages/edge/src/store/index.js';
import { parsePromText, sampleValue } from '../support/prometheus-text.js';
import {
  createApiKey,
  pollUntil,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  await stopAll();
});

/** Requests per second each address may send (`limits.requestsPerSecondPerIp`), the burst too. */
const PER_SECOND = 5;

/** A GET from loopback address `from` with this Host; its status, request id and body. */
async function getFrom(
  edge: Edge,
  from: string,
  host: string,
  path: string,
): Promise<{ status: number; id: string; code: string | undefined; body: string }> {
  const dispatcher = new Dispatcher({ localAddress: from });
  dispatchers.push(dispatcher);
  const res = await request(`${edge.url}${path}`, { dispatcher, headers: { host } });
  return {
    status: res.statusCode,
    id: String(res.headers['x-request-id']),
    code: res.headers['x-burrow-error'] as string | undefined,
    body: await res.body.text(),
  };
}

type Line = Record<string, unknown>;

/** The access-log lines of request `id`, once there is one (then a moment for a second to show). */
async function accessLines(edge: Edge, id: string): Promise<Line[]> {
  const pick = (): Line[] => edge.proc.json.filter((l) => l.msg === 'request' && l.id === id);
  await edge.proc.waitFor(() => (pick().length > 0 ? true : undefined), 5_000, `the access line of ${id}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return pick();
}

/** `burrow_requests_total` with these labels, scraped from the metrics listener until it reads `expected` (renders are cached 1 s). */
async function requestsTotal(
  metricsUrl: string,
  labels: Record<string, string>,
  expected: number,
): Promise<number> {
  const read = async (): Promise<number> =>
    sampleValue(parsePromText(await (await fetch(metricsUrl)).text()), 'burrow_requests_total', labels) ?? 0;
  return pollUntil(read, (value) => value >= expected, `burrow_requests_total ${JSON.stringify(labels)}`);
}

describe('refusals before an exchange', () => {
  it('are logged and counted; history keeps only the named tunnel’s, never a foreign Host’s', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge({
      args: ['--metrics-listen', '127.0.0.1:0'],
      env: { BURROW_LIMITS_REQUESTS_PER_SECOND_PER_IP: String(PER_SECOND) },
    });
    const metricsPort = await edge.proc.waitFor(
      () => edge.proc.json.find((l) => typeof l.metricsPort === 'number')?.metricsPort as number | undefined,
      5_000,
      'the metrics port',
    );
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const alice = await createApiKey(edge.dataDir, 'alice');
    await startAgent(edge, String(origin.port), { name: 'hooks', token: alice });
    const tunnelHost = edge.host('hooks');

    // Over the rate limit, from an address of its own: the burst passes, then 429s.
    const refused: { id: string; body: string }[] = [];
    for (let i = 0; i < 4 * PER_SECOND && refused.length === 0; i++) {
      const res = await getFrom(edge, '127.0.0.2', tunnelHost, `/echo?i=${i}`);
      if (res.status === 429) {
        expect(res.code).toBe('EDGE_RATE_LIMITED');
        refused.push(res);
      } else expect(res.status).toBe(200);
    }
    expect(refused).toHaveLength(1);
    const limited = refused[0]!;
    const [limitedLine, ...moreLimited] = await accessLines(edge, limited.id);
    expect(moreLimited).toEqual([]);
    expect(limitedLine).toMatchObject({
      tunnel: 'hooks',
      host: tunnelHost,
      method: 'GET',
      status: 429,
      errorCode: 'EDGE_RATE_LIMITED',
      clientAddress: '127.0.0.2',
      bytesIn: 0,
      bytesOut: Buffer.byteLength(limited.body),
    });
    expect(limitedLine!.userId).toMatch(/.+/);
    const limitedTiming = limitedLine!.timing as { edgeMs: null; totalMs: number; tunnelMs: null };
    expect(limitedTiming.edgeMs).toBeNull();
    expect(limitedTiming.totalMs).toBeGreaterThanOrEqual(0);
    expect(limitedTiming.tunnelMs).toBeNull();
    expect(
      await requestsTotal(
        metricsUrl,
        { status_class: '4xx', error_code: 'EDGE_RATE_LIMITED', tunnel: 'hooks' },
        1,
      ),
    ).toBe(1);

    // A request target over limits.maxUrlBytes (8 KiB), from another address.
    const long = await getFrom(edge, '127.0.0.3', tunnelHost, `/${'x'.repeat(9000)}`);
    expect(long.status).toBe(414);
    const [longLine, ...moreLong] = await accessLines(edge, long.id);
    expect(moreLong).toEqual([]);
    expect(longLine).toMatchObject({ tunnel: 'hooks', status: 414, errorCode: 'TUN_ERR_URL_TOO_LONG' });
    expect(
      await requestsTotal(
        metricsUrl,
        { status_class: '4xx', error_code: 'TUN_ERR_URL_TOO_LONG', tunnel: 'hooks' },
        1,
      ),
    ).toBe(1);

    // A Host outside the edge's domain: no tunnel, counted under the shared label.
    const foreign = await getFrom(edge, '127.0.0.4', 'elsewhere.example.org', '/probe');
    expect(foreign.status).toBe(404);
    expect(foreign.code).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
    const [foreignLine, ...moreForeign] = await accessLines(edge, foreign.id);
    expect(moreForeign).toEqual([]);
    expect(foreignLine).toMatchObject({
      tunnel: '',
      userId: null,
      host: 'elsewhere.example.org',
      path: '/probe',
      status: 404,
      errorCode: 'TUN_ERR_TUNNEL_NOT_FOUND',
      clientAddress: '127.0.0.4',
    });
    const otherLabels = { status_class: '4xx', error_code: 'TUN_ERR_TUNNEL_NOT_FOUND', tunnel: '_other' };
    expect(await requestsTotal(metricsUrl, otherLabels, 1)).toBe(1);

    // The owner sees the refusals in the tunnel's statistics (counted, not stored: a flood the
    // edge's limits hold off must not push the owner's real requests out of the history).
    const stats = await pollUntil(
      async () => {
        const res = await fetch(`${edge.url}/api/v1/tunnels/hooks/stats`, {
          headers: { authorization: `Bearer ${alice}` },
        });
        // The API is behind the same per-address limit as everything else; a 429 is a retry.
        return res.status === 200 ? ((await res.json()) as { errorCodes: Record<string, number> }) : null;
      },
      (body) => body !== null,
      'the tunnel statistics',
    );
    expect(stats!.errorCodes).toMatchObject({ EDGE_RATE_LIMITED: 1, TUN_ERR_URL_TOO_LONG: 1 });

    // A graceful stop writes everything queued: no refusal is among it.
    edge.proc.signal('SIGTERM');
    expect(await edge.proc.exited).toBe(0);
    const store = await openSqliteStore({ file: join(edge.dataDir, 'burrow.db') });
    try {
      expect(await store.getRequestRecord(limited.id)).toBeNull();
      expect(await store.getRequestRecord(long.id)).toBeNull();
      expect(await store.getRequestRecord(foreign.id)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
