/**
 * Replay end to end: a webhook captured through a real edge and a real `burrow http` agent
 * (`--capture bodies`) is sent again with `POST /api/v1/requests/{id}/replay`; the origin gets
 * the same method, path, headers and body under a new request id, the replay is a record of
 * its own, and nobody but the owner can replay it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  readBody,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  apiCall,
  pollUntil,
} from './harness.js';

afterEach(stopAll);

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('replay end to end', () => {
  it('sends a captured webhook to the origin again, byte for byte, under a new id', async () => {
    const seen: Seen[] = [];
    const origin = await startOrigin((req, res) => {
      void readBody(req).then((body) => {
        seen.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: body.toString('latin1'),
        });
        res.writeHead(seen.length === 1 ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(seen.length === 1 ? 'database down' : 'processed');
      });
    });
    const edge = await startEdge();
    const alice = await createApiKey(edge.dataDir, 'alice');
    const bob = await createApiKey(edge.dataDir, 'bob');
    await startAgent(edge, String(origin.port), {
      name: 'hooks',
      token: alice,
      args: ['--capture', 'bodies'],
    });

    // A binary body with every byte value: replay must not re-encode it.
    const payload = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const first = await tunnelRequest(edge, 'hooks', '/webhooks/stripe?attempt=1', {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'stripe-signature': 't=1,v1=abc',
        authorization: 'Bearer viewer-secret',
      },
      body: payload,
    });
    expect(first.statusCode).toBe(500);
    await first.body.dump();
    expect(seen).toHaveLength(1);
    const originalId = seen[0]!.headers['x-request-id'] as string;

    // The original, once written to the history.
    await pollUntil(
      () => apiCall(edge.url, alice, `/requests/${originalId}`),
      (a) => a.status === 200,
      'the stored original',
    );

    // Another user cannot replay (or even see) it.
    expect((await apiCall(edge.url, bob, `/requests/${originalId}/replay`, 'POST')).status).toBe(404);
    expect(seen).toHaveLength(1);

    const replay = await apiCall(edge.url, alice, `/requests/${originalId}/replay`, 'POST');
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ replayOf: originalId, status: 200, errorCode: null });
    const replayId = replay.body.id as string;
    expect(replayId).not.toBe(originalId);

    expect(seen).toHaveLength(2);
    const [then, now] = seen as [Seen, Seen];
    expect(now.method).toBe('POST');
    expect(now.url).toBe('/webhooks/stripe?attempt=1');
    expect(Buffer.from(now.body, 'latin1').equals(payload)).toBe(true);
    expect(now.headers['content-type']).toBe('application/octet-stream');
    expect(now.headers['stripe-signature']).toBe('t=1,v1=abc');
    expect(now.headers['x-request-id']).toBe(replayId);
    expect(now.headers['x-burrow-replay-of']).toBe(originalId);
    expect(now.headers.host).toBe(then.headers.host);
    // Redacted in the record, so not sent again.
    expect(then.headers.authorization).toBe('Bearer viewer-secret');
    expect(now.headers.authorization).toBeUndefined();

    // The replay is in the history too, pointing at the original, with the origin's new answer.
    const stored = await pollUntil(
      () => apiCall(edge.url, alice, `/requests/${replayId}`),
      (a) => a.status === 200,
      'the stored replay',
    );
    expect(stored.body).toMatchObject({ id: replayId, replayOf: originalId, status: 200, method: 'POST' });
    const capture = stored.body.capture as { responseBody: string };
    expect(Buffer.from(capture.responseBody, 'base64').toString()).toBe('processed');
  });

  it('refuses a request whose body was not captured, and sends nothing', async () => {
    let hits = 0;
    const origin = await startOrigin((req, res) => {
      hits++;
      void readBody(req).then(() => res.end('ok'));
    });
    const edge = await startEdge();
    const alice = await createApiKey(edge.dataDir, 'alice');
    await startAgent(edge, String(origin.port), { name: 'plain', token: alice });
    const res = await tunnelRequest(edge, 'plain', '/upload', { method: 'POST', body: 'not kept' });
    await res.body.dump();
    const id = await pollUntil(
      () => apiCall(edge.url, alice, '/tunnels/plain/requests'),
      (a) => (a.body.requests as unknown[] | undefined)?.length === 1,
      'the stored record',
    ).then((a) => (a.body.requests as { id: string }[])[0]!.id);
    const refused = await apiCall(edge.url, alice, `/requests/${id}/replay`, 'POST');
    expect(refused.status).toBe(409);
    const error = refused.body.error as { code: string; message: string };
    expect(error.code).toBe('TUN_ERR_REPLAY_UNAVAILABLE');
    expect(error.message).toMatch(/capture/);
    expect(hits).toBe(1);
  });
});
