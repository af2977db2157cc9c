import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeFailure, problemType, tagAcmeProblems } from './acme-problem.js';

let server: Server;
let base = '';

beforeAll(async () => {
  // A CA answering problem documents, as RFC 8555 §6.7 shapes them.
  server = createServer((req, res) => {
    const type = (req.url ?? '').slice(1);
    res.writeHead(403, { 'Content-Type': 'application/problem+json' });
    res.end(
      JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail: `no (${type})`, status: 403 }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tagAcmeProblems();
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ACME problems', () => {
  it("keeps the problem type in acme-client's error text", async () => {
    const res = await acme.axios.get(`${base}/rejectedIdentifier`, { validateStatus: () => true });
    expect((res.data as { detail: string }).detail).toBe(
      '[urn:ietf:params:acme:error:rejectedIdentifier] no (rejectedIdentifier)',
    );
    expect(problemType(new Error((res.data as { detail: string }).detail))).toBe('rejectedIdentifier');
  });

  it('maps problems to stable codes: refused for good, rate limited, anything else retryable', () => {
    const tagged = (type: string) => new Error(`[urn:ietf:params:acme:error:${type}] detail`);
    expect(acmeFailure('a.example', tagged('rejectedIdentifier'))).toMatchObject({
      code: 'TUN_ERR_ACME_REJECTED',
      retryable: false,
    });
    expect(acmeFailure('a.example', tagged('malformed')).code).toBe('TUN_ERR_ACME_REJECTED');
    // A failed challenge (a 404, a stale TXT on a slow secondary) or CAA may pass next time.
    for (const type of ['unauthorized', 'incorrectResponse', 'dns', 'caa']) {
      expect(acmeFailure('a.example', tagged(type)), type).toMatchObject({
        code: 'TUN_ERR_ACME_ORDER_FAILED',
        retryable: true,
      });
    }
    expect(acmeFailure('a.example', tagged('rateLimited'))).toMatchObject({
      code: 'TUN_ERR_ACME_RATE_LIMITED',
      retryable: true,
    });
    expect(acmeFailure('a.example', tagged('serverInternal')).code).toBe('TUN_ERR_ACME_ORDER_FAILED');
    expect(acmeFailure('a.example', new Error('connect ECONNREFUSED'))).toMatchObject({
      code: 'TUN_ERR_ACME_ORDER_FAILED',
      retryable: true,
    });
  });
});
