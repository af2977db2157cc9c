/**
 * Migration 0002 (tenancy) on a database that 0001 created and an older edge filled: every
 * row survives, old keys belong to the default admin user with `agent,api`, and tunnels
 * belong to their key's user.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_TABLE, MIGRATIONS, migrateToLatest } from './migrate.js';
import { hashSecret } from './secret-hash.js';
import { openSqliteDatabase } from './sqlite-database.js';
import { BurrowSqliteDialect } from './sqlite-dialect.js';
import { openSqliteStore } from './sqlite-store.js';
import { DEFAULT_USER_ID, DEFAULT_USER_NAME } from './user-name.js';

const T = Date.UTC(2024, 5, 1);
const SECRET = `bk_OldKey01_${'a'.repeat(43)}`;
const REVOKED_SECRET = `bk_OldKey02_${'b'.repeat(43)}`;

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'burrow-migration-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A database at 0001 only, as the previous release left it. */
async function createVersion1(file: string): Promise<void> {
  const db = new Kysely<unknown>({
    dialect: new BurrowSqliteDialect({ database: openSqliteDatabase({ file }) }),
  });
  const initial = MIGRATIONS['0001-initial'];
  if (initial === undefined) throw new Error('0001-initial is missing');
  expect(await migrateToLatest(db, { '0001-initial': initial })).toEqual(['0001-initial']);
  await db.destroy();
}

function fillVersion1(file: string): void {
  const raw = new SqliteDatabase(file);
  const key = raw.prepare(
    'insert into api_keys (id, prefix, hash, label, created_at, last_used_at, revoked_at) values (?, ?, ?, ?, ?, ?, ?)',
  );
  key.run('key_old0000000000001', 'OldKey01', hashSecret(SECRET), 'laptop', T, T + 5, null);
  key.run('key_old0000000000002', 'OldKey02', hashSecret(REVOKED_SECRET), 'ci', T + 1, null, T + 9);
  const tunnel = raw.prepare(
    'insert into tunnels (name, kind, owner_key_id, resume_token_hash, created_at, last_active_at) values (?, ?, ?, ?, ?, ?)',
  );
  tunnel.run('myapp', 'named', 'key_old0000000000001', 'resume-hash', T, T + 100);
  tunnel.run('k3xnz3', 'temporary', 'key_old0000000000002', null, T, T + 50);
  tunnel.run('anon12', 'temporary', null, null, T, T + 60);
  tunnel.run('legacy', 'named', null, null, T, T);
  const session = raw.prepare(
    'insert into sessions (id, key_id, agent, remote_address, connected_at, disconnected_at, reason) values (?, ?, ?, ?, ?, ?, ?)',
  );
  session.run('s1', 'key_old0000000000001', 'burrow/0.1.0', '203.0.113.7', T, T + 10, 'agent closed');
  session.run('s2', null, 'burrow/0.1.0', '::1', T + 20, null, null);
  raw.close();
}

describe('migration 0002-tenancy', () => {
  it('keeps every 0001 row and gives old keys and their tunnels the default admin user', async () => {
    const file = join(dir, 'upgrade.db');
    await createVersion1(file);
    fillVersion1(file);

    const store = await openSqliteStore({ file, clock: { now: () => T + 1_000 } });
    try {
      const users = await store.listUsers();
      expect(users).toEqual([
        {
          id: DEFAULT_USER_ID,
          name: DEFAULT_USER_NAME,
          admin: true,
          createdAt: expect.any(Date) as unknown,
          disabledAt: null,
        },
      ]);

      expect(await store.listApiKeys()).toEqual([
        {
          id: 'key_old0000000000001',
          prefix: 'OldKey01',
          label: 'laptop',
          userId: DEFAULT_USER_ID,
          scopes: ['agent', 'api'],
          createdAt: new Date(T),
          lastUsedAt: new Date(T + 5),
          revokedAt: null,
        },
        {
          id: 'key_old0000000000002',
          prefix: 'OldKey02',
          label: 'ci',
          userId: DEFAULT_USER_ID,
          scopes: ['agent', 'api'],
          createdAt: new Date(T + 1),
          lastUsedAt: null,
          revokedAt: new Date(T + 9),
        },
      ]);
      const verified = await store.verifyApiKey(SECRET);
      expect(verified).toMatchObject({ id: 'key_old0000000000001', userId: DEFAULT_USER_ID });
      expect(verified?.user.name).toBe(DEFAULT_USER_NAME);
      expect(await store.verifyApiKey(REVOKED_SECRET)).toBeNull();

      expect(await store.getTunnel('myapp')).toEqual({
        name: 'myapp',
        kind: 'named',
        ownerKeyId: 'key_old0000000000001',
        ownerUserId: DEFAULT_USER_ID,
        ownerUserName: DEFAULT_USER_NAME,
        resumeTokenHash: 'resume-hash',
        createdAt: new Date(T),
        lastActiveAt: new Date(T + 100),
        // Migration 0003 (run too, opening the store) adds no stored policy to old tunnels.
        policy: null,
      });
      expect((await store.getTunnel('k3xnz3'))?.ownerUserId).toBe(DEFAULT_USER_ID);
      expect((await store.getTunnel('anon12'))?.ownerUserId).toBeNull();
      expect((await store.getTunnel('legacy'))?.ownerUserId).toBeNull();
      expect((await store.listTunnelsOwnedByUser(DEFAULT_USER_ID)).map((t) => t.name)).toEqual([
        'k3xnz3',
        'myapp',
      ]);

      expect((await store.listSessions()).map((s) => [s.id, s.keyId, s.reason])).toEqual([
        ['s2', null, null],
        ['s1', 'key_old0000000000001', 'agent closed'],
      ]);
      expect((await store.listSessions({ userId: DEFAULT_USER_ID })).map((s) => s.id)).toEqual(['s1']);
      expect(await store.listDomains()).toEqual([]);

      // Everything new works on the upgraded file.
      const alice = await store.createUser({ name: 'alice' });
      const { record } = await store.createApiKey({ label: 'new', userId: alice.id });
      expect(record.userId).toBe(alice.id);
      expect((await store.addDomain({ hostname: 'app.example.org', userId: alice.id })).userId).toBe(
        alice.id,
      );
    } finally {
      await store.close();
    }

    const raw = new SqliteDatabase(file, { readonly: true });
    const applied = raw.prepare(`select name from ${MIGRATION_TABLE} order by name`).pluck().all();
    raw.close();
    expect(applied).toEqual(Object.keys(MIGRATIONS).sort());
  });

  it('upgrades an empty 0001 database, creating only the default user', async () => {
    const file = join(dir, 'empty.db');
    await createVersion1(file);
    const store = await openSqliteStore({ file });
    try {
      expect((await store.listUsers()).map((u) => u.name)).toEqual([DEFAULT_USER_NAME]);
      expect(await store.listApiKeys()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('enforces the new constraints in the database itself', async () => {
    const file = join(dir, 'constraints.db');
    await (await openSqliteStore({ file })).close();
    const raw = openSqliteDatabase({ file });
    try {
      expect(() =>
        raw.prepare("insert into users (id, name, is_admin, created_at) values ('u2', 'x', 2, 0)").run(),
      ).toThrow(/CHECK/);
      expect(() =>
        raw
          .prepare("insert into users (id, name, is_admin, created_at) values ('u3', 'default', 0, 0)")
          .run(),
      ).toThrow(/UNIQUE/);
      expect(() =>
        raw
          .prepare(
            "insert into api_keys (id, prefix, hash, label, created_at, user_id) values ('k', 'p', 'h', 'l', 0, 'usr_nobody')",
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
      expect(() =>
        raw
          .prepare(
            "insert into domains (hostname, user_id, verification_token, created_at) values ('a.example.org', 'usr_nobody', 't', 0)",
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
      const scopes: unknown = raw
        .prepare(
          "insert into api_keys (id, prefix, hash, label, created_at, user_id) values ('k', 'p', 'h', 'l', 0, 'usr_default') returning scopes",
        )
        .pluck()
        .get();
      expect(scopes).toBe('agent,api');
    } finally {
      raw.close();
    }
  });
});
