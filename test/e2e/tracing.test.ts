/**
 * Tracing through real processes: a real edge and a real `burrow http` agent, each with
 * --otlp-endpoint pointed at a loopback OTLP/HTTP receiver that decodes what it gets, and a
 * real origin that records the traceparent it saw. One trace: viewer span → edge span
 * (SERVER) → agent span (CLIENT) → the origin's parent.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import {
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Agent,
  type Edge,
} from './harness.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

let receiver: OtlpReceiver | null = null;
afterEach(async () => {
  await stopAll();
  await receiver?.close();
  receiver = null;
});

interface Seen {
  traceparent: string | undefined;
  tracestate: string | undefined;
}

/** An origin answering 200 that remembers the trace headers of each request by path. */
async function tracingOrigin(): Promise<{ port: number; seen: Map<string, Seen> }> {
  const seen = new Map<string, Seen>();
  const { port } = await startOrigin((req, res) => {
    const one = (value: string | string[] | undefined): string | undefined =>
      Array.isArray(value) ? value.join(', ') : value;
    seen.set(req.url ?? '', {
      traceparent: one(req.headers.traceparent),
      tracestate: one(req.headers.tracestate),
    });
    res.end('ok');
  });
  return { port, seen };
}

function fields(traceparent: string | undefined): { traceId: string; parentId: string; flags: string } {
  const match = TRACEPARENT.exec(traceparent ?? '');
  if (match === null) throw new Error(`the origin got no valid traceparent: ${String(traceparent)}`);
  return { traceId: match[1]!, parentId: match[2]!, flags: match[3]! };
}

/** SIGTERM agent then edge: each flushes its spans on the way out. */
async function stopAndFlush(edge: Edge, agent: Agent | null): Promise<void> {
  if (agent !== null) {
    agent.proc.signal('SIGTERM');
    expect(await agent.proc.exited).toBe(0);
  }
  edge.proc.signal('SIGTERM');
  expect(await edge.proc.exited).toBe(0);
}

function spanOf(spans: ReceivedSpan[], service: string, requestId?: string): ReceivedSpan {
  const found = spans.filter(
    (span) =>
      span.serviceName === service &&
      (requestId === undefined || span.attributes['burrow.request_id'] === requestId),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('tracing across viewer, edge, agent and origin', () => {
  it("continues the viewer's trace: edge span under the viewer's, agent span under the edge's, origin under the agent's", async () => {
    receiver = await startOtlpReceiver();
    const origin = await tracingOrigin();
    const edge = await startEdge({ args: ['--otlp-endpoint', receiver.url] });
    const agent = await startAgent(edge, String(origin.port), { args: ['--otlp-endpoint', receiver.url] });
    const viewerTrace = '0af7651916cd43dd8448eb211c80319c';
    const viewerSpan = 'b7ad6b7169203331';
    const res = await tunnelRequest(edge, agent.name, '/continued?x=1', {
      headers: { traceparent: `00-${viewerTrace}-${viewerSpan}-01`, tracestate: 'congo=t61rcWkgMzE' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const requestId = res.headers['x-request-id'];
    await stopAndFlush(edge, agent);

    const edgeSpan = spanOf(receiver.spans, 'burrow-edge');
    const agentSpan = spanOf(receiver.spans, 'burrow-agent');
    expect(edgeSpan).toMatchObject({
      name: `GET ${agent.name}`,
      kind: 2,
      traceId: viewerTrace,
      parentSpanId: viewerSpan,
    });
    expect(edgeSpan.traceState).toBe('congo=t61rcWkgMzE');
    expect(edgeSpan.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/continued',
      'url.query': 'x=1',
      'http.response.status_code': 200,
      'burrow.tunnel': agent.name,
    });
    expect(edgeSpan.attributes['burrow.request_id']).toBe(requestId);
    expect(agentSpan).toMatchObject({
      name: `GET 127.0.0.1:${origin.port}`,
      kind: 3,
      traceId: viewerTrace,
      parentSpanId: edgeSpan.spanId,
    });
    expect(agentSpan.attributes['http.response.status_code']).toBe(200);
    // The agent's span lies within the edge's.
    expect(agentSpan.startTimeUnixNano).toBeGreaterThanOrEqual(edgeSpan.startTimeUnixNano - 5_000_000n);
    expect(agentSpan.endTimeUnixNano).toBeLessThanOrEqual(edgeSpan.endTimeUnixNano + 5_000_000n);

    const seen = origin.seen.get('/continued?x=1');
    expect(fields(seen?.traceparent)).toEqual({
      traceId: viewerTrace,
      parentId: agentSpan.spanId,
      flags: '01',
    });
    expect(seen?.tracestate).toBe('congo=t61rcWkgMzE');
  });

  it('starts a trace for a request without one, and origin and collector agree on its id', async () => {
    receiver = await startOtlpReceiver();
    const origin = await tracingOrigin();
    const edge = await startEdge({ args: ['--otlp-endpoint', receiver.url] });
    const agent = await startAgent(edge, String(origin.port), { args: ['--otlp-endpoint', receiver.url] });
    const first = await tunnelRequest(edge, agent.name, '/first');
    await first.body.text();
    const second = await tunnelRequest(edge, agent.name, '/second', { headers: { traceparent: 'garbage' } });
    await second.body.text();
    await stopAndFlush(edge, agent);

    const ids = new Set<string>();
    for (const path of ['/first', '/second']) {
      const atOrigin = fields(origin.seen.get(path)?.traceparent);
      expect(atOrigin.flags).toBe('01');
      const edgeSpan = receiver.spans.find(
        (s) => s.serviceName === 'burrow-edge' && s.attributes['url.path'] === path,
      );
      const agentSpan = receiver.spans.find(
        (s) => s.serviceName === 'burrow-agent' && s.parentSpanId === edgeSpan?.spanId,
      );
      expect(edgeSpan?.traceId).toBe(atOrigin.traceId);
      expect(edgeSpan?.parentSpanId).toBe('');
      expect(agentSpan?.traceId).toBe(atOrigin.traceId);
      expect(atOrigin.parentId).toBe(agentSpan?.spanId);
      ids.add(atOrigin.traceId);
    }
    expect(ids.size).toBe(2);
    expect(receiver.spans).toHaveLength(4);
  });

  it("gives the origin the edge's span as parent when only the edge exports", async () => {
    receiver = await startOtlpReceiver();
    const origin = await tracingOrigin();
    const edge = await startEdge({ args: ['--otlp-endpoint', receiver.url] });
    const agent = await startAgent(edge, String(origin.port));
    const res = await tunnelRequest(edge, agent.name, '/edge-only');
    await res.body.text();
    await stopAndFlush(edge, agent);

    const edgeSpan = spanOf(receiver.spans, 'burrow-edge');
    expect(receiver.spans.filter((s) => s.serviceName === 'burrow-agent')).toEqual([]);
    expect(fields(origin.seen.get('/edge-only')?.traceparent)).toEqual({
      traceId: edgeSpan.traceId,
      parentId: edgeSpan.spanId,
      flags: '01',
    });
  });

  it('without an endpoint still propagates the trace, marked unsampled when the edge started it', async () => {
    const origin = await tracingOrigin();
    const edge = await startEdge();
    const agent = await startAgent(edge, String(origin.port));
    const viewerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const continued = await tunnelRequest(edge, agent.name, '/viewer', {
      headers: { traceparent: `00-${viewerTrace}-00f067aa0ba902b7-01` },
    });
    await continued.body.text();
    const fresh = await tunnelRequest(edge, agent.name, '/fresh');
    await fresh.body.text();
    const atOrigin = fields(origin.seen.get('/viewer')?.traceparent);
    expect(atOrigin.traceId).toBe(viewerTrace);
    expect(atOrigin.parentId).not.toBe('00f067aa0ba902b7');
    expect(atOrigin.flags).toBe('01');
    expect(fields(origin.seen.get('/fresh')?.traceparent).flags).toBe('00');
  });
});
