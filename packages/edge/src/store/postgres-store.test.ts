import { afterAll, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { describeDatabaseUrl, openPostgresStore } from './postgres-store.js';
import { runStoreContract } from './store.contract.js';
import { TestDatabases } from './test-support/postgres-databases.js';

const databases = new TestDatabases();

// Dropping ~90 databases waits for a checkpoint each; on a loaded machine that takes minutes.
afterAll(() => databases.dropAll(), 300_000);

runStoreContract('postgresql', async ({ database, clock, random }) =>
  openPostgresStore({ url: await databases.url(database), clock, random }),
);

describe('openPostgresStore', () => {
  it('refuses an unreachable server with TUN_ERR_CONFIG_INVALID naming it, never the password', async () => {
    const url = 'postgres://burrow:hunter2@127.0.0.1:1/nothing';
    const err = await openPostgresStore({ url, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    expect((err as TunnelError).message).toContain('postgres://burrow@127.0.0.1:1/nothing');
    expect((err as TunnelError).message).not.toContain('hunter2');
  });

  it('describes a URL without its password', () => {
    expect(describeDatabaseUrl('postgresql://u:secret@db.example:5433/burrow?ssl=true')).toBe(
      'postgresql://u@db.example:5433/burrow',
    );
  });
});
