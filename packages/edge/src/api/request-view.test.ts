import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../observe/test-support/sample-record.js';
import { requestEvent, requestView } from './request-view.js';

const captured = sampleRecord({
  id: 'r-1',
  startedAt: new Date('2024-05-01T12:00:00.123Z'),
  method: 'POST',
  path: '/hooks?x=1',
  status: 201,
  bytesIn: 3,
  bytesOut: 2,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  timing: { edgeMs: 0.4, tunnelMs: 1.5, originMs: 12, totalMs: 14.2 },
  capture: {
    requestHeaders: ['content-type', 'application/octet-stream', 'authorization', '***'],
    requestBody: Buffer.from([0, 255, 10]),
    requestBodyTruncated: false,
    responseHeaders: ['content-length', '2'],
    responseBody: Buffer.from('ok'),
    responseBodyTruncated: true,
  },
});

describe('request view', () => {
  it('shows every field camelCase, dates as ISO strings, and no capture in pages', () => {
    expect(requestView(captured)).toEqual({
      id: 'r-1',
      tunnel: 'alpha',
      userId: 'user-1',
      startedAt: '2024-05-01T12:00:00.123Z',
      method: 'POST',
      path: '/hooks?x=1',
      host: 'alpha.burrow.test',
      status: 201,
      upgrade: false,
      bytesIn: 3,
      bytesOut: 2,
      clientAddress: '127.0.0.2',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      errorCode: null,
      timing: { edgeMs: 0.4, tunnelMs: 1.5, originMs: 12, totalMs: 14.2 },
      replayOf: null,
    });
  });

  it('adds the capture with bodies in base64 and headers as pairs', () => {
    expect(requestView(captured, true).capture).toEqual({
      requestHeaders: [
        ['content-type', 'application/octet-stream'],
        ['authorization', '***'],
      ],
      requestBody: 'AP8K',
      requestBodyTruncated: false,
      responseHeaders: [['content-length', '2']],
      responseBody: 'b2s=',
      responseBodyTruncated: true,
    });
    expect(requestView(sampleRecord(), true).capture).toBeNull();
  });

  it('makes one SSE event: name, the record id, the view on one data line', () => {
    const text = requestEvent(sampleRecord({ id: 'r-2', path: '/a\nb' }));
    const lines = text.split('\n');
    expect(lines.slice(0, 2)).toEqual(['event: request', 'id: r-2']);
    expect(lines[2]!.startsWith('data: ')).toBe(true);
    expect(JSON.parse(lines[2]!.slice(6))).toMatchObject({ id: 'r-2', path: '/a\nb' });
    expect(lines.slice(3)).toEqual(['', '']);
    expect(requestEvent(sampleRecord({ id: 'x\r\ny' })).split('\n')[1]).toBe('id: xy');
  });
});
