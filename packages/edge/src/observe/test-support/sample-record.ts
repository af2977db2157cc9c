/** A finished request's record as the exchanges make it, for observer and API tests: override what the test is about. */

import type { RequestRecord } from '../request-observer.js';

let next = 0;

export function sampleRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  next++;
  return {
    id: `req-${next.toString().padStart(6, '0')}`,
    tunnel: 'alpha',
    userId: 'user-1',
    startedAt: new Date(1_700_000_000_000 + next),
    method: 'GET',
    path: '/',
    host: 'alpha.burrow.test',
    status: 200,
    upgrade: false,
    bytesIn: 0,
    bytesOut: 0,
    clientAddress: '127.0.0.2',
    traceId: null,
    errorCode: null,
    timing: { edgeMs: 1, tunnelMs: 2, originMs: 3, totalMs: 10 },
    replayOf: null,
    capture: null,
    ...overrides,
  };
}

/** The same with a total time in ms. */
export function timedRecord(totalMs: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return sampleRecord({ timing: { edgeMs: null, tunnelMs: null, originMs: null, totalMs }, ...overrides });
}
