import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { realTimers } from '@burrow/protocol';
import type { DomainRecord, ListDomainsOptions } from '../store/index.js';
import { DomainVerifier } from './domain-verifier.js';
import type { TxtLookup } from './txt-lookup.js';

function pending(hostname: string, token = `tok-${hostname}`): DomainRecord {
  return {
    hostname,
    userId: 'usr_a',
    verificationToken: token,
    tunnelName: 'myapp',
    createdAt: new Date(0),
    verifiedAt: null,
  };
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`query failed ${code}`), { code });
}

function setup(rows: DomainRecord[], txt: Record<string, string[] | string>, maxPerPass?: number) {
  const looked: string[] = [];
  const store = {
    rows,
    marked: [] as string[],
    listDomains(opts: ListDomainsOptions = {}): Promise<DomainRecord[]> {
      return Promise.resolve(store.rows.filter((d) => (d.verifiedAt !== null) === (opts.verified ?? false)));
    },
    markDomainVerified(hostname: string): Promise<DomainRecord | null> {
      store.marked.push(hostname);
      const row = store.rows.find((d) => d.hostname === hostname) ?? null;
      if (row) row.verifiedAt = new Date(2);
      return Promise.resolve(row);
    },
  };
  const lookupTxt: TxtLookup = (name) => {
    looked.push(name);
    const answer = txt[name];
    if (answer === undefined) return Promise.reject(dnsError('ENOTFOUND'));
    if (typeof answer === 'string') return Promise.reject(dnsError(answer));
    return Promise.resolve(answer);
  };
  const passes: (readonly string[])[] = [];
  const verifier = new DomainVerifier({
    store,
    lookupTxt,
    timers: realTimers,
    log: pino({ level: 'silent' }),
    intervalMs: 60_000,
    maxPerPass,
    onPass: (verified) => {
      passes.push(verified);
    },
  });
  return { store, verifier, looked, passes };
}

describe('DomainVerifier', () => {
  it('verifies a domain whose _burrow TXT record is exactly its token', async () => {
    const { store, verifier, looked, passes } = setup([pending('app.example.org', 'abc')], {
      '_burrow.app.example.org': ['v=spf1 -all', 'abc'],
    });
    expect(await verifier.verifyPass()).toEqual(['app.example.org']);
    expect(looked).toEqual(['_burrow.app.example.org']);
    expect(store.marked).toEqual(['app.example.org']);
    expect(passes).toEqual([['app.example.org']]);
    expect(await verifier.verifyPass()).toEqual([]);
  });

  it('never verifies a wrong, partial or padded value', async () => {
    const { store, verifier } = setup([pending('app.example.org', 'abc')], {
      '_burrow.app.example.org': ['abcd', 'ab', ' abc', 'xyz'],
    });
    expect(await verifier.verifyPass()).toEqual([]);
    expect(store.marked).toEqual([]);
  });

  it('logs lookup failures and timeouts and goes on with the other domains', async () => {
    const { verifier } = setup(
      [pending('a.example.org'), pending('b.example.org'), pending('c.example.org')],
      {
        '_burrow.a.example.org': 'ECANCELLED',
        '_burrow.b.example.org': 'ESERVFAIL',
        '_burrow.c.example.org': ['tok-c.example.org'],
      },
    );
    expect(await verifier.verifyPass()).toEqual(['c.example.org']);
  });

  it('looks up at most maxPerPass domains per pass, walking the backlog round-robin', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => pending(`d${i}.example.org`));
    const { verifier, looked } = setup(rows, {}, 2);
    await verifier.verifyPass();
    expect(looked).toEqual(['_burrow.d0.example.org', '_burrow.d1.example.org']);
    looked.length = 0;
    await verifier.verifyPass();
    expect(looked).toEqual(['_burrow.d2.example.org', '_burrow.d3.example.org']);
    looked.length = 0;
    await verifier.verifyPass();
    expect(looked).toEqual(['_burrow.d4.example.org', '_burrow.d0.example.org']);
  });

  it('reports a store failure through the log and still ends the pass', async () => {
    const { verifier, passes } = setup([], {});
    const broken = new DomainVerifier({
      store: {
        listDomains: () => Promise.reject(new Error('db down')),
        markDomainVerified: () => Promise.resolve(null),
      },
      lookupTxt: () => Promise.resolve([]),
      timers: realTimers,
      log: pino({ level: 'silent' }),
      intervalMs: 60_000,
      onPass: (verified) => {
        passes.push(verified);
      },
    });
    await expect(broken.verifyPass()).resolves.toEqual([]);
    expect(passes).toEqual([[]]);
    await verifier.stop();
  });

  it('runs a pass at start, and stop() ends the interval', async () => {
    const { store, verifier, passes } = setup([pending('app.example.org', 'abc')], {
      '_burrow.app.example.org': ['abc'],
    });
    verifier.start();
    await vi.waitFor(() => expect(passes).toHaveLength(1));
    expect(store.marked).toEqual(['app.example.org']);
    await verifier.stop();
    verifier.start();
    await verifier.stop();
    expect(passes).toHaveLength(1);
  });

  it('stop() waits for the pass in flight without starting more lookups', async () => {
    const { verifier, looked, passes } = setup([pending('a.example.org'), pending('b.example.org')], {});
    verifier.start();
    await verifier.stop();
    expect(passes).toHaveLength(1);
    expect(looked).toEqual([]);
  });
});
