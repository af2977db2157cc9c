import http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  Session,
  createMemoryTransportPair,
  realTimers,
  type MuxStream,
  type RequestHead,
  TunnelError,
} from '@burrow/protocol';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../../test/support/otlp-receiver.js';
import { routeFor, serveStream } from '../forwarder.js';
import type { OriginCallTracer } from '../forward-context.js';
import { OriginPools } from '../origin-pools.js';
import type { RequestRecord } from '../request-log.js';
import { AGENT_SESSION_LIMITS } from '../session-client.js';
import { HTTP_ATTRIBUTES } from './origin-span.js';
import { OriginTracer, type SpanSink } from './origin-tracer.js';
import { startOriginTracing } from './otlp-export.js';
import { listenOnLoopback } from '../test-support/loopback-server.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const EDGE_SPAN = 'a3ce929d0e0e4736';
const SAMPLED = `00-${TRACE_ID}-${EDGE_SPAN}-01`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class RecordingSink implements SpanSink {
  readonly spans: ReadableSpan[] = [];
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const source = { resource: resourceFromAttributes({ 'service.name': 'burrow-agent' }), scope: { name: 't' } };

/** An origin that answers 200 and remembers each request's traceparent (undefined when absent). */
async function startOrigin(): Promise<{ url: URL; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    const value = req.headers.traceparent;
    seen.push(Array.isArray(value) ? value.join(', ') : value);
    res.end('ok');
  });
  const listening = await listenOnLoopback(server);
  cleanups.push(listening.close);
  return { url: new URL(`http://127.0.0.1:${listening.port}`), seen };
}

/** The agent's forwarder behind an in-memory session; `send` plays the edge. */
function tunnelTo(origin: URL, tracer: OriginCallTracer | null) {
  const [agentTransport, edgeTransport] = createMemoryTransportPair();
  const agent = new Session({ role: 'agent', transport: agentTransport, ...AGENT_SESSION_LIMITS });
  const edge = new Session({ role: 'edge', transport: edgeTransport, ...AGENT_SESSION_LIMITS });
  const pools = new OriginPools({ connections: 4 });
  const records: RequestRecord[] = [];
  const routes = new Map([['app', routeFor({ origin, hostHeader: 'preserve' })]]);
  const context = {
    pools,
    timers: realTimers,
    originTimeoutMs: 5000,
    onRequest: (record: RequestRecord) => records.push(record),
    tracer,
  };
  agent.on('stream', (stream: MuxStream) => serveStream(stream, routes, context));
  cleanups.push(async () => {
    edge.destroy();
    agent.destroy();
    await pools.destroy();
  });
  const send = (traceparent: string | null): Promise<number | TunnelError> => {
    const stream = edge.openStream();
    const head: RequestHead = {
      tunnel: 'app',
      method: 'GET',
      path: '/hook?x=1',
      headers: ['Host', 'app.localhost', ...(traceparent === null ? [] : ['traceparent', traceparent])],
      remoteAddress: '203.0.113.9',
      requestId: 'req-1',
    };
    return new Promise((resolve) => {
      let status = 0;
      stream.on('head', (h) => (status = h.status));
      stream.on('data', () => undefined);
      stream.on('end', () => resolve(status));
      stream.on('reset', (err) => resolve(err));
      stream.open(head, { fin: true, upgrade: false });
    });
  };
  return { send, records, edge };
}

describe('the agent span of an origin call', () => {
  it('replaces the edge span with its own in the origin traceparent, and exports it as a child of the edge span', async () => {
    const origin = await startOrigin();
    const sink = new RecordingSink();
    const { send, records } = tunnelTo(origin.url, new OriginTracer(sink, source, { timers: realTimers }));
    expect(await send(SAMPLED)).toBe(200);
    expect(records).toHaveLength(1);
    expect(sink.spans).toHaveLength(1);
    const span = sink.spans[0]!;
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.name).toBe(`GET 127.0.0.1:${origin.url.port}`);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.spanContext().spanId).not.toBe(EDGE_SPAN);
    expect(span.parentSpanContext?.spanId).toBe(EDGE_SPAN);
    expect(origin.seen).toEqual([`00-${TRACE_ID}-${span.spanContext().spanId}-01`]);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `http://127.0.0.1:${origin.url.port}/hook?x=1`,
      'server.address': '127.0.0.1',
      'server.port': Number(origin.url.port),
      'http.response.status_code': 200,
      'burrow.tunnel': 'app',
      'burrow.request_id': 'req-1',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const startNs = span.startTime[0] * 1e9 + span.startTime[1];
    const endNs = span.endTime[0] * 1e9 + span.endTime[1];
    expect(endNs).toBeGreaterThanOrEqual(startNs);
    expect(Math.abs(startNs / 1e6 - Date.now())).toBeLessThan(10_000);
  });

  it('passes an unsampled or missing traceparent through untouched and exports nothing', async () => {
    const origin = await startOrigin();
    const sink = new RecordingSink();
    const { send } = tunnelTo(origin.url, new OriginTracer(sink, source, { timers: realTimers }));
    const unsampled = `00-${TRACE_ID}-${EDGE_SPAN}-00`;
    await send(unsampled);
    await send(null);
    expect(origin.seen).toEqual([unsampled, undefined]);
    expect(sink.spans).toEqual([]);
  });

  it("leaves the edge's traceparent for the origin when the agent exports no spans", async () => {
    const origin = await startOrigin();
    const { send } = tunnelTo(origin.url, null);
    await send(SAMPLED);
    expect(origin.seen).toEqual([SAMPLED]);
  });

  it('records a failed origin call as an error span with its code', async () => {
    const origin = await startOrigin();
    const sink = new RecordingSink();
    // Nothing listens on the origin's port once it is closed.
    const closed = new URL(origin.url);
    for (const cleanup of cleanups.splice(0)) await cleanup();
    const { send } = tunnelTo(closed, new OriginTracer(sink, source, { timers: realTimers }));
    const outcome = await send(SAMPLED);
    expect(typeof outcome).not.toBe('number');
    expect(sink.spans).toHaveLength(1);
    expect(sink.spans[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TUN_ERR_ORIGIN_REFUSED' });
    expect(sink.spans[0]!.attributes['error.type']).toBe('TUN_ERR_ORIGIN_REFUSED');
  });

  it('records a viewer that cancels as an attribute, not as an error span', async () => {
    let arrived: () => void = () => undefined;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    // An origin that never answers: the viewer gives up first.
    const server = http.createServer(() => arrived());
    const listening = await listenOnLoopback(server);
    cleanups.push(listening.close);
    const url = new URL(`http://127.0.0.1:${listening.port}`);
    const sink = new RecordingSink();
    const { edge, records } = tunnelTo(url, new OriginTracer(sink, source, { timers: realTimers }));
    const stream = edge.openStream();
    stream.on('reset', () => undefined);
    stream.open(
      {
        tunnel: 'app',
        method: 'GET',
        path: '/slow',
        headers: ['Host', 'app.localhost', 'traceparent', SAMPLED],
        remoteAddress: '203.0.113.9',
        requestId: 'req-2',
      },
      { fin: true, upgrade: false },
    );
    await requestArrived;
    stream.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED', 'viewer left'));
    for (let i = 0; i < 100 && sink.spans.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(records[0]).toMatchObject({ status: null, error: 'TUN_ERR_STREAM_CANCELLED', upgrade: false });
    expect(sink.spans).toHaveLength(1);
    const span = sink.spans[0]!;
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['burrow.error_code']).toBe('TUN_ERR_STREAM_CANCELLED');
  });

  it('traces an upgrade: the origin sees the agent span, exported when the connection ends', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((_req, res) => res.end('no'));
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      seen.push(req.headers.traceparent as string | undefined);
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nbye');
    });
    const listening = await listenOnLoopback(server);
    cleanups.push(listening.close);
    const sink = new RecordingSink();
    const url = new URL(`http://127.0.0.1:${listening.port}`);
    const { edge } = tunnelTo(url, new OriginTracer(sink, source, { timers: realTimers }));
    const stream = edge.openStream();
    const status = new Promise<number>((resolve) => stream.on('head', (h) => resolve(h.status)));
    stream.on('data', () => undefined);
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.open(
      {
        tunnel: 'app',
        method: 'GET',
        path: '/ws',
        headers: [
          'Host',
          'app.localhost',
          'Connection',
          'Upgrade',
          'Upgrade',
          'test',
          'traceparent',
          SAMPLED,
        ],
        remoteAddress: '203.0.113.9',
        requestId: 'ws-1',
      },
      { fin: false, upgrade: true },
    );
    expect(await status).toBe(101);
    await ended;
    stream.end();
    for (let i = 0; i < 100 && sink.spans.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sink.spans).toHaveLength(1);
    const span = sink.spans[0]!;
    expect(span.parentSpanContext?.spanId).toBe(EDGE_SPAN);
    expect(span.attributes['http.response.status_code']).toBe(101);
    expect(seen).toEqual([`00-${TRACE_ID}-${span.spanContext().spanId}-01`]);
  });

  it('stops tracing once closed', async () => {
    const origin = await startOrigin();
    const sink = new RecordingSink();
    const tracer = new OriginTracer(sink, source, { timers: realTimers });
    const { send } = tunnelTo(origin.url, tracer);
    await tracer.close(1000);
    await send(SAMPLED);
    expect(origin.seen).toEqual([SAMPLED]);
    expect(sink.spans).toEqual([]);
  });
});

describe("the agent's OTLP export", () => {
  it("spells the attribute names as the SDK's semantic conventions do", () => {
    expect(HTTP_ATTRIBUTES).toEqual({
      method: ATTR_HTTP_REQUEST_METHOD,
      url: ATTR_URL_FULL,
      serverAddress: ATTR_SERVER_ADDRESS,
      serverPort: ATTR_SERVER_PORT,
      status: ATTR_HTTP_RESPONSE_STATUS_CODE,
      errorType: ATTR_ERROR_TYPE,
    });
  });

  let receiver: OtlpReceiver | null = null;
  afterEach(async () => {
    await receiver?.close();
    receiver = null;
  });
  const warnings: string[] = [];
  const deps = { timers: realTimers, warn: (message: string) => warnings.push(message) };

  it('creates no tracer without an endpoint', async () => {
    expect(
      await startOriginTracing({ endpoint: null, serviceName: 'burrow-agent', maxQueue: 8 }, deps),
    ).toBeNull();
  });

  it('sends the span to the receiver as OTLP JSON when closed', async () => {
    receiver = await startOtlpReceiver();
    const origin = await startOrigin();
    const tracer = await startOriginTracing(
      { endpoint: receiver.url, serviceName: 'laptop', maxQueue: 8 },
      deps,
    );
    const { send } = tunnelTo(origin.url, tracer);
    await send(SAMPLED);
    await tracer!.close(5000);
    expect(receiver.spans).toHaveLength(1);
    expect(receiver.spans[0]).toMatchObject({
      serviceName: 'laptop',
      scope: '@burrow/agent',
      kind: 3,
      traceId: TRACE_ID,
      parentSpanId: EDGE_SPAN,
    });
    expect(origin.seen).toEqual([`00-${TRACE_ID}-${receiver.spans[0]!.spanId}-01`]);
  });
});
