/** Which names the edge orders for: a real SQLite store with a reserved name. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_ID, openSqliteStore, type Store } from '../../store/index.js';
import { responsibility } from './responsibility.js';

let store: Store;
const live = new Set(['shop', 'r4nd0m']);

beforeAll(async () => {
  store = await openSqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'burrow-resp-')), 'b.db') });
  await store.reserveName({ name: 'shop', userId: DEFAULT_USER_ID });
});
afterAll(() => store.close());

function decide(onDemandTemporary: boolean) {
  return responsibility({
    domain: 'burrow.test',
    isLive: (name) => live.has(name),
    store,
    customHosts: { lookup: () => Promise.resolve(undefined) },
    onDemandTemporary,
  });
}

describe('responsibility', () => {
  it('orders its own certificate for a temporary tunnel only when the operator opted in', async () => {
    expect(await decide(false)('r4nd0m.burrow.test')).toBe(false);
    expect(await decide(true)('r4nd0m.burrow.test')).toBe(true);
  });

  it('always for a reserved name, and a temporary tunnel may always join the wildcard', async () => {
    expect(await decide(false)('shop.burrow.test')).toBe(true);
    expect(await decide(false)('r4nd0m.burrow.test', true)).toBe(true);
    expect(await decide(false)('gone.burrow.test', true)).toBe(false);
  });
});
