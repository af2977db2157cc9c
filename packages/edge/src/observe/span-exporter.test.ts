import { realTimers } from '@burrow/protocol';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../../../test/support/otlp-receiver.js';
import { createLogger } from '../logger.js';
import { startRequestTracing, tracesUrl } from './otlp-export.js';
import type { RequestRecord } from './request-observer.js';
import { RequestSpanExporter, type SpanSink } from './span-exporter.js';
import { traceContextFor } from './trace-context.js';

const log = createLogger('silent');

function record(sampled: boolean, id = 'r1'): RequestRecord {
  const trace = traceContextFor(undefined, undefined, sampled);
  return {
    id,
    tunnel: 'demo',
    userId: null,
    startedAt: new Date(),
    method: 'GET',
    path: '/',
    host: 'demo.localhost',
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 2,
    clientAddress: '127.0.0.1',
    traceId: trace.traceId,
    trace,
    errorCode: null,
    timing: { edgeMs: 0, tunnelMs: 1, originMs: 1, totalMs: 2 },
    replayOf: null,
    capture: null,
  };
}

class RecordingSink implements SpanSink {
  readonly spans: ReadableSpan[] = [];
  shutdowns = 0;
  constructor(private readonly hang = false) {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return this.hang ? new Promise(() => undefined) : Promise.resolve();
  }
}

const source = {
  resource: resourceFromAttributes({ 'service.name': 't' }),
  scope: { name: 't' },
  traceState: (value: string) => new TraceState(value),
};

let receiver: OtlpReceiver | null = null;
afterEach(async () => {
  await receiver?.close();
  receiver = null;
});

describe('RequestSpanExporter', () => {
  it('exports sampled requests only, and none without a trace or after close', async () => {
    const sink = new RecordingSink();
    const exporter = new RequestSpanExporter(sink, source, realTimers);
    exporter.record(record(true, 'a'));
    exporter.record(record(false, 'b'));
    exporter.record({ ...record(true, 'c'), trace: undefined });
    await exporter.close(1000);
    exporter.record(record(true, 'd'));
    expect(sink.spans.map((span) => span.attributes['burrow.request_id'])).toEqual(['a']);
    await exporter.close(1000);
    expect(sink.shutdowns).toBe(1);
  });

  it('gives up on a flush that hangs after the bounded wait', async () => {
    const exporter = new RequestSpanExporter(new RecordingSink(true), source, realTimers);
    const started = Date.now();
    await exporter.close(100);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('OTLP export', () => {
  it('creates no exporter without an endpoint', async () => {
    expect(
      await startRequestTracing(
        { endpoint: null, serviceName: 'burrow-edge', maxQueue: 10 },
        { log, timers: realTimers },
      ),
    ).toBeNull();
  });

  it('adds /v1/traces to a bare receiver URL and keeps an explicit path', () => {
    expect(tracesUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(tracesUrl('https://otel.example.com/')).toBe('https://otel.example.com/v1/traces');
    expect(tracesUrl('http://c:4318/custom/traces')).toBe('http://c:4318/custom/traces');
  });

  it('sends the spans as OTLP JSON with exact ids and the service name, on close', async () => {
    receiver = await startOtlpReceiver();
    const exporter = await startRequestTracing(
      { endpoint: receiver.url, serviceName: 'edge-under-test', maxQueue: 100 },
      { log, timers: realTimers },
    );
    const sent = record(true);
    exporter!.record(sent);
    await exporter!.close(5000);
    expect(receiver.spans).toHaveLength(1);
    expect(receiver.spans[0]).toMatchObject({
      serviceName: 'edge-under-test',
      scope: '@burrow/edge',
      name: 'GET demo',
      kind: 2,
      traceId: sent.trace!.traceId,
      spanId: sent.trace!.spanId,
      parentSpanId: '',
    });
    expect(receiver.spans[0]!.attributes['burrow.request_id']).toBe('r1');
  });

  it('drops spans beyond maxQueue instead of growing', async () => {
    receiver = await startOtlpReceiver();
    const exporter = await startRequestTracing(
      { endpoint: receiver.url, serviceName: 'edge', maxQueue: 3 },
      { log, timers: realTimers },
    );
    for (let i = 0; i < 10; i++) exporter!.record(record(true, `r${i}`));
    await exporter!.close(5000);
    // The first three leave as a full batch at once; while it is in flight the queue takes
    // three more (sent on close) and the last four are dropped.
    expect(receiver.spans.map((span) => span.attributes['burrow.request_id'])).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
    ]);
  });
});
