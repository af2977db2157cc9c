import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DomainRecord, ListDomainsOptions } from '../store/index.js';
import { DomainRoutes } from './domain-routes.js';

function domain(hostname: string, tunnelName: string | null, verified = true): DomainRecord {
  return {
    hostname,
    userId: 'usr_a',
    verificationToken: 'tok',
    tunnelName,
    createdAt: new Date(0),
    verifiedAt: verified ? new Date(1) : null,
  };
}

/** A store whose rows the test edits, counting listDomains calls. */
function fakeStore(rows: DomainRecord[]) {
  const store = {
    rows,
    queries: 0,
    failNext: false,
    listDomains(opts: ListDomainsOptions = {}): Promise<DomainRecord[]> {
      store.queries++;
      if (store.failNext) {
        store.failNext = false;
        return Promise.reject(new Error('db down'));
      }
      return Promise.resolve(
        store.rows.filter((d) => opts.verified === undefined || (d.verifiedAt !== null) === opts.verified),
      );
    },
  };
  return store;
}

function setup(rows: DomainRecord[]) {
  const clock = { t: 1_000_000 };
  const store = fakeStore(rows);
  const routes = new DomainRoutes({
    store,
    timers: { now: () => clock.t },
    log: pino({ level: 'silent' }),
    minReloadMs: 3_000,
  });
  return { clock, store, routes };
}

describe('DomainRoutes', () => {
  it('maps only verified domains that have a tunnel', async () => {
    const { routes } = setup([
      domain('app.example.org', 'myapp'),
      domain('bare.example.org', null),
      domain('pending.example.org', 'other', false),
    ]);
    await routes.reload();
    expect(routes.tunnelFor('app.example.org')).toBe('myapp');
    expect(routes.tunnelFor('bare.example.org')).toBeUndefined();
    expect(routes.tunnelFor('pending.example.org')).toBeUndefined();
    expect(routes.size).toBe(1);
  });

  it('answers known hosts without touching the store', async () => {
    const { store, routes } = setup([domain('app.example.org', 'myapp')]);
    await routes.reload();
    const before = store.queries;
    for (let i = 0; i < 100; i++) expect(await routes.lookup('app.example.org')).toBe('myapp');
    expect(store.queries).toBe(before);
  });

  it('queries the store at most once per minReloadMs for any number of unknown hosts', async () => {
    const { clock, store, routes } = setup([domain('app.example.org', 'myapp')]);
    await routes.reload();
    const before = store.queries;
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => routes.lookup(`random${i}.attacker.test`)),
    );
    expect(answers.every((a) => a === undefined)).toBe(true);
    expect(store.queries).toBe(before);
    clock.t += 3_000;
    const burst = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => routes.lookup(`again${i}.attacker.test`)),
    );
    expect(burst.every((a) => a === undefined)).toBe(true);
    expect(store.queries).toBe(before + 1);
    expect(routes.size).toBe(1);
  });

  it('picks up a domain routed after startup on the first miss past minReloadMs', async () => {
    const { clock, store, routes } = setup([]);
    await routes.reload();
    store.rows.push(domain('new.example.org', 'myapp'));
    expect(await routes.lookup('new.example.org')).toBeUndefined();
    clock.t += 3_000;
    expect(await routes.lookup('new.example.org')).toBe('myapp');
  });

  it('queues a reload asked for during one in flight, so it sees later writes', async () => {
    const { store, routes } = setup([]);
    const first = routes.reload();
    store.rows.push(domain('late.example.org', 'myapp'));
    const second = routes.reload();
    const third = routes.reload();
    await Promise.all([first, second, third]);
    expect(store.queries).toBe(2);
    expect(routes.tunnelFor('late.example.org')).toBe('myapp');
  });

  it('keeps the last snapshot when a reload fails', async () => {
    const { store, routes } = setup([domain('app.example.org', 'myapp')]);
    await routes.reload();
    store.failNext = true;
    await expect(routes.reload()).resolves.toBeUndefined();
    expect(routes.tunnelFor('app.example.org')).toBe('myapp');
  });
});
