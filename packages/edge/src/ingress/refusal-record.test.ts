import { describe, expect, it } from 'vitest';
import { NO_TUNNEL } from '../store/request-records.js';
import { refusalRecord, type RefusalAnswer, type RefusedRequest } from './refusal-record.js';

const answer: RefusalAnswer = {
  requestId: '0190c5a0-0000-7000-8000-000000000001',
  status: 429,
  errorCode: 'EDGE_RATE_LIMITED',
  bytesOut: 118,
};

const request: RefusedRequest = {
  tunnel: 'demo',
  userId: 'u1',
  method: 'GET',
  path: '/a?burrow_token=secret&x=1',
  host: 'demo.example.com',
  clientAddress: '203.0.113.9',
  upgrade: false,
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  totalMs: 0.1234567,
};

describe('refusalRecord', () => {
  it('is a record of the edge alone: all time the edge’s, no stream times, nothing in, nothing captured', () => {
    expect(refusalRecord(request, answer, true)).toEqual({
      id: answer.requestId,
      tunnel: 'demo',
      userId: 'u1',
      startedAt: new Date(request.startedAt),
      method: 'GET',
      path: '/a?burrow_token=***&x=1',
      host: 'demo.example.com',
      status: 429,
      upgrade: false,
      bytesIn: 0,
      bytesOut: 118,
      clientAddress: '203.0.113.9',
      traceId: null,
      errorCode: 'EDGE_RATE_LIMITED',
      timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs: 0.123 },
      replayOf: null,
      capture: null,
    });
  });

  it('has no trace to export', () => {
    expect(refusalRecord(request, answer, true)).not.toHaveProperty('trace');
  });

  it('keeps paths and hosts as exchange records do: query dropped when asked, both cut', () => {
    expect(refusalRecord(request, answer, false).path).toBe('/a');
    const long = refusalRecord(
      { ...request, path: `/${'x'.repeat(9000)}`, host: 'h'.repeat(400) },
      answer,
      true,
    );
    expect(long.path).toHaveLength(2048);
    expect(long.host).toHaveLength(255);
  });

  it('never records negative time (a stopwatch read out of order is 0)', () => {
    expect(refusalRecord({ ...request, totalMs: -3 }, answer, true).timing).toEqual({
      edgeMs: null,
      tunnelMs: null,
      originMs: null,
      totalMs: 0,
    });
  });

  it('carries a refusal without a request or a tunnel as it is: empty method, path, host, NO_TUNNEL', () => {
    const record = refusalRecord(
      { ...request, tunnel: NO_TUNNEL, userId: null, method: '', path: '', host: '' },
      { ...answer, status: 0, bytesOut: 0 },
      true,
    );
    expect(record).toMatchObject({ tunnel: '', userId: null, method: '', path: '', host: '', status: 0 });
  });
});
