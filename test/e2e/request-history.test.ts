/**
 * Issue 12 end to end: requests through a real edge, a real `burrow http` agent and a real
 * origin show up live on the SSE stream (read with fetch), then in the history API with
 * their filters and in the tunnel's statistics, and only for the tunnel's owner.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  readBody,
  createApiKey,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  apiCall,
  pollUntil,
} from './harness.js';

afterEach(stopAll);

describe('request history, live stream and statistics end to end', () => {
  it('shows each request through the tunnel to its owner: live, in history and in stats', async () => {
    const seenIds: string[] = [];
    const origin = await startOrigin((req, res) => {
      seenIds.push(req.headers['x-request-id'] as string);
      void readBody(req).then(async (body) => {
        const url = new URL(req.url ?? '/', 'http://origin');
        if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, 60));
        const status = url.pathname === '/missing' ? 404 : 200;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`got ${body.length}`);
      });
    });
    const edge = await startEdge();
    const alice = await createApiKey(edge.dataDir, 'alice');
    const bob = await createApiKey(edge.dataDir, 'bob');
    const agent = await startAgent(edge, String(origin.port), { name: 'hooks', token: alice });

    // The live stream first, so it sees every request below.
    const controller = new AbortController();
    const stream = await fetch(`${edge.url}/api/v1/tunnels/hooks/requests/stream`, {
      headers: { authorization: `Bearer ${alice}` },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    let text = '';
    const reading = (async () => {
      const reader = stream.body!.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
        }
      } catch {
        // aborted below
      }
    })();

    const sent: [string, string, number, string?][] = [
      ['GET', '/', 200],
      ['POST', '/hooks/github', 200, 'x'.repeat(1000)],
      ['GET', '/missing', 404],
      ['GET', '/slow', 200],
    ];
    for (const [method, path, status, body] of sent) {
      const res = await tunnelRequest(edge, agent.name, path, { method: method as 'GET' | 'POST', body });
      expect(res.statusCode).toBe(status);
      await res.body.dump();
    }
    expect(seenIds).toHaveLength(4);

    // Live: one event per request, named by the id the origin got, in order.
    const events = await pollUntil(
      () => Promise.resolve([...text.matchAll(/event: request\nid: (\S+)\ndata: (.*)\n\n/g)]),
      (found) => found.length >= 4,
      'four stream events',
    );
    expect(events.map((m) => m[1])).toEqual(seenIds);
    const live = events.map((m) => JSON.parse(m[2]!) as Record<string, unknown>);
    expect(live.map((r) => [r.method, r.path, r.status])).toEqual(sent.map(([m, p, s]) => [m, p, s]));
    expect(live[1]).toMatchObject({
      tunnel: 'hooks',
      bytesIn: 1000,
      bytesOut: 8,
      upgrade: false,
      errorCode: null,
    });
    const slow = live[3]!.timing as { originMs: number; totalMs: number };
    expect(slow.originMs).toBeGreaterThanOrEqual(55);
    expect(slow.totalMs).toBeGreaterThanOrEqual(slow.originMs);

    // History: written in batches, so it may lag the stream by a flush.
    const page = await pollUntil(
      () => apiCall(edge.url, alice, '/tunnels/hooks/requests'),
      (a) => (a.body.requests as unknown[] | undefined)?.length === 4,
      'four stored records',
    );
    expect((page.body.requests as { id: string }[]).map((r) => r.id)).toEqual([...seenIds].reverse());
    expect(page.body.nextCursor).toBeNull();
    const missing = await apiCall(edge.url, alice, '/tunnels/hooks/requests?status=4xx');
    expect((missing.body.requests as { path: string }[]).map((r) => r.path)).toEqual(['/missing']);
    const posts = await apiCall(edge.url, alice, '/tunnels/hooks/requests?method=POST&path_prefix=/hooks/');
    expect((posts.body.requests as { id: string }[]).map((r) => r.id)).toEqual([seenIds[1]]);
    const one = await apiCall(edge.url, alice, `/requests/${seenIds[1]}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: seenIds[1], method: 'POST', capture: null });

    // Statistics, with the agent's session.
    const stats = await apiCall(edge.url, alice, '/tunnels/hooks/stats');
    expect(stats.body).toMatchObject({
      name: 'hooks',
      requests: 4,
      statusClasses: { '2xx': 3, '4xx': 1, '5xx': 0 },
      bytesIn: 1000,
      lastStatus: 200,
      latency: { minute: { count: 4 } },
    });
    expect(stats.body.sessions).toHaveLength(1);
    expect((stats.body.latency as { minute: { p99Ms: number } }).minute.p99Ms).toBeGreaterThanOrEqual(60);

    // Nobody else sees any of it.
    expect((await apiCall(edge.url, bob, `/requests/${seenIds[0]}`)).status).toBe(404);
    expect((await apiCall(edge.url, bob, '/tunnels/hooks/requests')).status).toBe(404);
    expect((await apiCall(edge.url, bob, '/tunnels/hooks/stats')).status).toBe(404);

    controller.abort();
    await reading;
  });
});
