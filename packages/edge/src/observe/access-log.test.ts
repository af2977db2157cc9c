import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import type { RequestRecord } from '../store/request-records.js';
import { clfTime, combinedLine, createAccessLog } from './access-log.js';

const sample: RequestRecord = {
  id: 'req-1',
  tunnel: 'demo',
  userId: 'usr_1',
  startedAt: new Date(Date.UTC(2024, 9, 5, 7, 3, 9)),
  method: 'POST',
  path: '/hook?x=1',
  host: 'demo.example.com',
  status: 201,
  upgrade: false,
  bytesIn: 11,
  bytesOut: 532,
  clientAddress: '203.0.113.9',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  errorCode: null,
  timing: { edgeMs: 0.2, tunnelMs: 1.1, originMs: 30, totalMs: 31.9 },
  replayOf: null,
  capture: {
    requestHeaders: ['Authorization', '***'],
    requestBody: Buffer.from('secret body'),
    requestBodyTruncated: false,
    responseHeaders: [],
    responseBody: null,
    responseBodyTruncated: false,
  },
};

/** A logger writing to memory; `lines()` gives what it wrote once flushed. */
function memoryLogger(level = 'info') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const log = createLogger(level, out);
  return {
    log,
    lines: async (): Promise<string[]> => {
      log.flush();
      await new Promise((resolve) => setImmediate(resolve));
      return text.split('\n').filter((line) => line !== '');
    },
  };
}

describe('access log', () => {
  it('json: one pino line at info with the record fields, no capture', async () => {
    const { log, lines } = memoryLogger();
    createAccessLog('json', log)!.record(sample);
    const [line, ...rest] = await lines();
    expect(rest).toEqual([]);
    const parsed = JSON.parse(line!) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      level: 30,
      service: 'burrow-edge',
      msg: 'request',
      id: 'req-1',
      tunnel: 'demo',
      userId: 'usr_1',
      startedAt: '2024-10-05T07:03:09.000Z',
      method: 'POST',
      path: '/hook?x=1',
      host: 'demo.example.com',
      status: 201,
      upgrade: false,
      bytesIn: 11,
      bytesOut: 532,
      clientAddress: '203.0.113.9',
      traceId: sample.traceId,
      errorCode: null,
      timing: { edgeMs: 0.2, tunnelMs: 1.1, originMs: 30, totalMs: 31.9 },
      replayOf: null,
    });
    expect(parsed).not.toHaveProperty('capture');
    // The envelope is the logger's own: the same keys, in the same order, as its other lines.
    expect(Object.keys(parsed).slice(0, 3)).toEqual(['level', 'time', 'service']);
    expect(Math.abs((parsed.time as number) - Date.now())).toBeLessThan(5_000);
    log.info({ other: 1 }, 'x');
    const pinoLine = JSON.parse((await lines()).at(-1)!) as Record<string, unknown>;
    expect(Object.keys(pinoLine)).toEqual(['level', 'time', 'service', 'other', 'msg']);
    expect(line).not.toContain('secret body');
  });

  it('json: nothing when info is off', async () => {
    const { log, lines } = memoryLogger('warn');
    createAccessLog('json', log)!.record(sample);
    expect(await lines()).toEqual([]);
  });

  it("combined: the Apache/nginx line through the logger's own destination", async () => {
    const { log, lines } = memoryLogger();
    createAccessLog('combined', log)!.record(sample);
    expect(await lines()).toEqual([
      '203.0.113.9 - - [05/Oct/2024:07:03:09 +0000] "POST /hook?x=1 HTTP/1.1" 201 532 "-" "-"',
    ]);
  });

  it('combined: nothing when info is off, like json', async () => {
    const { log, lines } = memoryLogger('warn');
    createAccessLog('combined', log)!.record(sample);
    log.warn('still logging');
    expect((await lines()).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['still logging']);
  });

  it('combined: "-" for no body, quotes and controls escaped so a line stays one line', () => {
    const line = combinedLine({ ...sample, bytesOut: 0, status: 0, path: '/a"b\\c\n' });
    expect(line).toBe(
      '203.0.113.9 - - [05/Oct/2024:07:03:09 +0000] "POST /a\\"b\\\\c\\x0a HTTP/1.1" 0 - "-" "-"\n',
    );
  });

  it('combined: "-" as the request line when no request was read (a refused connection)', () => {
    const line = combinedLine({ ...sample, method: '', path: '', status: 429, bytesOut: 131 });
    expect(line).toBe('203.0.113.9 - - [05/Oct/2024:07:03:09 +0000] "-" 429 131 "-" "-"\n');
  });

  it('off: no observer at all', () => {
    expect(createAccessLog('off', memoryLogger().log)).toBeNull();
  });

  it('writes %t in UTC with two-digit fields', () => {
    expect(clfTime(new Date(Date.UTC(2000, 0, 2, 3, 4, 5)))).toBe('02/Jan/2000:03:04:05 +0000');
  });
});
