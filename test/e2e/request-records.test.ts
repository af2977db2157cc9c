/**
 * Request records end to end: a real edge, `burrow http` and an origin that takes its time.
 * The edge's access log and the agent's JSON request line carry the timing breakdown, and
 * the origin's deliberate delay shows up as the origin's share.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../packages/edge/src/store/index.js';
import {
  createApiKey,
  readBody,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
} from './harness.js';

afterAll(stopAll);

const ORIGIN_DELAY_MS = 120;

async function slowOrigin(): Promise<number> {
  const origin = await startOrigin((req, res) => {
    void readBody(req).then((body) =>
      setTimeout(() => res.end(`got ${body.length} bytes for ${req.url ?? ''}`), ORIGIN_DELAY_MS),
    );
  });
  return origin.port;
}

interface Timing {
  edgeMs: number | null;
  tunnelMs: number | null;
  originMs: number | null;
  totalMs: number;
}

describe('request records', () => {
  it("records each request in the SQLite store and the access log, the origin's share covering its delay", async () => {
    const edge = await startEdge();
    const token = await createApiKey(edge.dataDir);
    const agent = await startAgent(edge, String(await slowOrigin()), { token });
    const res = await tunnelRequest(edge, agent.name, '/hook?n=1', { method: 'POST', body: 'twelve bytes' });
    expect(res.statusCode).toBe(200);
    const body = await res.body.text();
    const requestId = res.headers['x-request-id'];

    const line = await edge.proc.waitFor(
      () => edge.proc.json.find((l) => l.msg === 'request' && l.id === requestId),
      10_000,
      'the access log line',
    );
    expect(line).toMatchObject({
      level: 30,
      tunnel: agent.name,
      method: 'POST',
      path: '/hook?n=1',
      host: edge.host(agent.name),
      status: 200,
      upgrade: false,
      bytesIn: 12,
      bytesOut: Buffer.byteLength(body),
      clientAddress: '127.0.0.1',
      errorCode: null,
    });
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    const timing = line.timing as Timing;
    expect(timing.originMs).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS - 1);
    expect(timing.edgeMs).toBeGreaterThanOrEqual(0);
    expect(timing.tunnelMs).toBeGreaterThanOrEqual(0);
    // The tunnel's share on loopback is small beside the origin's deliberate delay.
    expect(timing.tunnelMs).toBeLessThan(timing.originMs!);
    expect(timing.totalMs).toBeGreaterThanOrEqual(
      timing.edgeMs! + timing.tunnelMs! + timing.originMs! - 0.01,
    );

    // The agent's --log json line says the same origin time it sent in HEAD.
    const agentLine = await agent.proc.waitFor(
      () => agent.proc.json.find((l) => l.event === 'request' && l.requestId === requestId),
      10_000,
      "the agent's request line",
    );
    expect((agentLine.timing as { originMs: number }).originMs).toBe(timing.originMs);

    // Three more, then a graceful stop: the history writer hands everything to the store first.
    for (const path of ['/a', '/b?q=2', '/c'])
      await (await tunnelRequest(edge, agent.name, path)).body.dump();
    edge.proc.signal('SIGTERM');
    expect(await edge.proc.exited).toBe(0);
    const store = await openSqliteStore({ file: join(edge.dataDir, 'burrow.db') });
    try {
      const page = await store.listRequestRecords({ tunnel: agent.name, limit: 10 });
      expect(page.records.map((r) => r.path)).toEqual(['/c', '/b?q=2', '/a', '/hook?n=1']);
      const stored = await store.getRequestRecord(String(requestId));
      expect(stored).toMatchObject({
        tunnel: agent.name,
        method: 'POST',
        path: '/hook?n=1',
        status: 200,
        bytesIn: 12,
        errorCode: null,
        traceId: line.traceId,
        timing,
        capture: null,
      });
      // An API key's tunnel: the record says whose it is.
      expect(stored?.userId).toMatch(/.+/);
      for (const r of page.records) expect(r.timing.originMs).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS - 1);
    } finally {
      await store.close();
    }
  });

  it('the bundled edge writes history on its insert thread: every record of a burst, none dropped', async () => {
    const edge = await startEdge();
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const agent = await startAgent(edge, String(origin.port));
    const total = 300;
    let next = 0;
    // 20 viewers at once, so records arrive faster than one flush interval.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          const res = await tunnelRequest(edge, agent.name, `/burst/${next++}`);
          expect(res.statusCode).toBe(200);
          await res.body.dump();
        }
      }),
    );
    // The worker's code travelled in the bundle and started from it.
    const started = await edge.proc.waitFor(
      () => edge.proc.json.find((l) => l.msg === 'request history: inserting on a worker thread'),
      10_000,
      'the insert thread to start',
    );
    expect(started.file).toBe(join(edge.dataDir, 'burrow.db'));
    expect(started.threadId).toBeGreaterThan(0);
    edge.proc.signal('SIGTERM');
    expect(await edge.proc.exited).toBe(0);
    expect(edge.proc.json.filter((l) => /records dropped|insert thread stopped/.test(String(l.msg)))).toEqual(
      [],
    );
    const store = await openSqliteStore({ file: join(edge.dataDir, 'burrow.db'), insertThread: false });
    try {
      const paths: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRequestRecords({ tunnel: agent.name, limit: 200, cursor });
        paths.push(...page.records.map((r) => r.path));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(paths.sort()).toEqual(Array.from({ length: total }, (_, i) => `/burst/${i}`).sort());
    } finally {
      await store.close();
    }
  });

  it('answers with Server-Timing when the agent asks with --server-timing', async () => {
    const edge = await startEdge();
    const agent = await startAgent(edge, String(await slowOrigin()), { args: ['--server-timing'] });
    const res = await tunnelRequest(edge, agent.name, '/timed');
    await res.body.dump();
    const value = String(res.headers['server-timing']);
    const match = /^edge;dur=[0-9.]+, tunnel;dur=[0-9.]+, origin;dur=([0-9.]+)$/.exec(value);
    expect(match, value).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(ORIGIN_DELAY_MS - 1);
  });

  it('writes the combined format with --access-log combined, and nothing with off', async () => {
    const edge = await startEdge({ args: ['--access-log', 'combined'] });
    const port = String(await slowOrigin());
    const agent = await startAgent(edge, port);
    const res = await tunnelRequest(edge, agent.name, '/page?x=1');
    const body = await res.body.text();
    const line = await edge.proc.waitFor(
      () => edge.proc.lines.find((l) => l.includes('"GET /page?x=1 HTTP/1.1"')),
      10_000,
      'the combined line',
    );
    expect(line).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000\\] "GET /page\\?x=1 HTTP/1\\.1" 200 ${Buffer.byteLength(body)} "-" "-"$`,
      ),
    );

    const quiet = await startEdge({ args: ['--access-log', 'off'] });
    const quietAgent = await startAgent(quiet, port);
    const again = await tunnelRequest(quiet, quietAgent.name, '/page');
    await again.body.dump();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(quiet.proc.json.filter((l) => l.msg === 'request')).toEqual([]);
  });
});
