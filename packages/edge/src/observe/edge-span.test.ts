import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import { describe, expect, it } from 'vitest';
import { edgeSpanFrom, hrTimeOf, HTTP_ATTRIBUTES, splitHost, type SpanSource } from './edge-span.js';
import type { RequestRecord } from './request-observer.js';
import type { TraceContext } from './trace-context.js';

const source: SpanSource = {
  resource: resourceFromAttributes({ 'service.name': 'burrow-edge' }),
  scope: { name: '@burrow/edge' },
  traceState: (value) => new TraceState(value),
};

const trace: TraceContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: 'a3ce929d0e0e4736',
  parentSpanId: '00f067aa0ba902b7',
  sampled: true,
  traceState: 'rojo=00f067aa0ba902b7',
};

function record(fields: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 'req-1',
    tunnel: 'k3xnz3',
    userId: null,
    startedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    method: 'POST',
    path: '/hooks/github?delivery=7',
    host: 'k3xnz3.tunnel.example.com:8443',
    status: 201,
    upgrade: false,
    bytesIn: 120,
    bytesOut: 2,
    clientAddress: '203.0.113.9',
    traceId: trace.traceId,
    trace,
    errorCode: null,
    timing: { edgeMs: 0.4, tunnelMs: 1.2, originMs: 30, totalMs: 32.5 },
    replayOf: null,
    capture: null,
    ...fields,
  };
}

describe('the edge span of a request', () => {
  it('has exactly the span id the agent was told, and the viewer span as its parent', () => {
    const span = edgeSpanFrom(record(), trace, source);
    expect(span.spanContext()).toMatchObject({
      traceId: trace.traceId,
      spanId: trace.spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
    expect(span.spanContext().traceState?.serialize()).toBe('rojo=00f067aa0ba902b7');
    expect(span.parentSpanContext).toMatchObject({ traceId: trace.traceId, spanId: '00f067aa0ba902b7' });
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.name).toBe('POST k3xnz3');
  });

  it('is a root span for a trace the edge started', () => {
    const span = edgeSpanFrom(record(), { ...trace, parentSpanId: null, traceState: null }, source);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceState).toBeUndefined();
  });

  it('runs from the record start for totalMs, and carries HTTP attributes and the timing breakdown', () => {
    const span = edgeSpanFrom(record(), trace, source);
    expect(span.startTime).toEqual([Date.UTC(2026, 0, 2, 3, 4, 5) / 1000, 678_000_000]);
    expect(span.endTime).toEqual([Date.UTC(2026, 0, 2, 3, 4, 5) / 1000, 710_500_000]);
    expect(span.duration).toEqual([0, 32_500_000]);
    expect(span.attributes).toEqual({
      'http.request.method': 'POST',
      'url.path': '/hooks/github',
      'url.query': 'delivery=7',
      'server.address': 'k3xnz3.tunnel.example.com',
      'server.port': 8443,
      'client.address': '203.0.113.9',
      'http.response.status_code': 201,
      'http.request.body.size': 120,
      'http.response.body.size': 2,
      'burrow.tunnel': 'k3xnz3',
      'burrow.request_id': 'req-1',
      'burrow.timing.edge_ms': 0.4,
      'burrow.timing.tunnel_ms': 1.2,
      'burrow.timing.origin_ms': 30,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('is an error with the code when the edge answered with one, and leaves unknown phases out', () => {
    const span = edgeSpanFrom(
      record({
        status: 502,
        errorCode: 'TUN_ERR_AGENT_OFFLINE',
        timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: 3 },
      }),
      trace,
      source,
    );
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TUN_ERR_AGENT_OFFLINE' });
    expect(span.attributes['error.type']).toBe('TUN_ERR_AGENT_OFFLINE');
    expect(Object.keys(span.attributes).filter((key) => key.startsWith('burrow.timing'))).toEqual([]);
  });

  it("treats an origin's 5xx as an error and a 4xx as the viewer's business", () => {
    expect(edgeSpanFrom(record({ status: 503 }), trace, source).status.code).toBe(SpanStatusCode.ERROR);
    expect(edgeSpanFrom(record({ status: 503 }), trace, source).attributes['error.type']).toBe('503');
    expect(edgeSpanFrom(record({ status: 404 }), trace, source).status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks upgrades and replays, and leaves the status out when the viewer got none', () => {
    const span = edgeSpanFrom(record({ upgrade: true, replayOf: 'req-0', status: 0 }), trace, source);
    expect(span.attributes['burrow.upgrade']).toBe(true);
    expect(span.attributes['burrow.replay_of']).toBe('req-0');
    expect(span.attributes['http.response.status_code']).toBeUndefined();
  });
});

describe('span helpers', () => {
  it("spells the attribute names as the SDK's semantic conventions do", () => {
    expect(HTTP_ATTRIBUTES).toEqual({
      method: ATTR_HTTP_REQUEST_METHOD,
      path: ATTR_URL_PATH,
      query: ATTR_URL_QUERY,
      serverAddress: ATTR_SERVER_ADDRESS,
      serverPort: ATTR_SERVER_PORT,
      clientAddress: ATTR_CLIENT_ADDRESS,
      status: ATTR_HTTP_RESPONSE_STATUS_CODE,
      errorType: ATTR_ERROR_TYPE,
    });
  });

  it.each([
    ['a.example.com:8443', 'a.example.com', 8443],
    ['a.example.com', 'a.example.com', null],
    ['[::1]:8080', '::1', 8080],
    ['[2001:db8::1]', '2001:db8::1', null],
  ])('splits %s', (host, address, port) => {
    expect(splitHost(host)).toEqual({ address, port });
  });

  it('keeps sub-millisecond precision in HrTime', () => {
    expect(hrTimeOf(1500.25)).toEqual([1, 500_250_000]);
  });
});
