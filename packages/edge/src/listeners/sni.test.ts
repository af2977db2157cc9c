import { createSecureContext } from 'node:tls';
import { realTimers } from '@burrow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateBook } from '../certs/certificate-book.js';
import { sniCallback } from './sni.js';
import { makeTestCertificates, type TestCertificates } from './test-support/test-certificates.js';

let wildcard: TestCertificates;
beforeAll(async () => {
  wildcard = await makeTestCertificates(['example.com', '*.example.com']);
});
afterAll(() => wildcard.remove());

describe('sniCallback with a wildcard file certificate as the default', () => {
  it('never asks on-demand for names the wildcard covers; asks for a name outside it', async () => {
    const book = new CertificateBook({ defaultHost: 'example.com' });
    const file = book.install(wildcard, 'file');
    const asked: string[] = [];
    const choose = sniCallback(
      {
        selector: book,
        onDemand: {
          obtain: (name) => {
            asked.push(name);
            return Promise.resolve(undefined);
          },
        },
        onDemandWaitMs: 1000,
        timers: realTimers,
      },
      createSecureContext({}),
    );
    const served = (name: string): Promise<unknown> =>
      new Promise((resolve) => choose(name, (_err, context) => resolve(context)));
    expect(await served('app.example.com')).toBe(file.context);
    expect(await served('example.com')).toBe(file.context);
    expect(await served('APP.Example.com')).toBe(file.context);
    expect(asked).toEqual([]);
    // Not covered: on-demand is asked, and the default is served when it has nothing.
    expect(await served('other.test')).toBe(file.context);
    expect(await served('a.b.example.com')).toBe(file.context);
    expect(asked).toEqual(['other.test', 'a.b.example.com']);
  });
});
