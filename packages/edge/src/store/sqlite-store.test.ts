import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { migrateToLatest, MIGRATION_TABLE, MIGRATIONS } from './migrate.js';
import { hashSecret } from './secret-hash.js';
import { openSqliteDatabase } from './sqlite-database.js';
import { openSqliteStore } from './sqlite-store.js';
import { runStoreContract } from './store.contract.js';
import { BurrowSqliteDialect } from './sqlite-dialect.js';
import { Kysely, sql } from 'kysely';
import type { Migration } from 'kysely';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'burrow-store-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStoreContract('sqlite file', ({ database, clock, random }) =>
  openSqliteStore({ file: join(dir, `${database}.db`), clock, random }),
);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('openSqliteStore', () => {
  it('creates a missing data directory', async () => {
    const file = join(dir, 'nested', 'deeper', 'burrow.db');
    const store = await openSqliteStore({ file });
    await store.close();
    const raw = new SqliteDatabase(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('sets WAL, busy_timeout and foreign keys on the connection', () => {
    const raw = openSqliteDatabase({ file: join(dir, 'pragmas.db'), busyTimeoutMs: 1234 });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
    raw.close();
  });

  it('waits for another process holding the write lock instead of failing', async () => {
    const file = join(dir, 'contended.db');
    // A plain-JS child (no TypeScript needed) takes the write lock and holds it for 400 ms.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const db = require('better-sqlite3')(process.argv[1]);
         db.pragma('journal_mode = WAL');
         db.exec('begin immediate');
         process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
         db.exec('commit');
         db.close();`,
        file,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('locked\n');
    const started = Date.now();
    const store = await openSqliteStore({ file });
    const waited = Date.now() - started;
    await store.close();
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    expect(waited).toBeGreaterThan(100);
  });

  it('records each migration once however often the file is opened', async () => {
    const file = join(dir, 'migrations.db');
    for (let n = 0; n < 3; n++) await (await openSqliteStore({ file })).close();
    const raw = new SqliteDatabase(file, { readonly: true });
    const names = raw.prepare(`select name from ${MIGRATION_TABLE} order by name`).pluck().all();
    raw.close();
    expect(names).toEqual(Object.keys(MIGRATIONS).sort());
  });

  it('reports nothing to apply on an up-to-date database', async () => {
    const file = join(dir, 'uptodate.db');
    await (await openSqliteStore({ file })).close();
    const db = new Kysely<unknown>({
      dialect: new BurrowSqliteDialect({ database: openSqliteDatabase({ file }) }),
    });
    expect(await migrateToLatest(db)).toEqual([]);
    await db.destroy();
  });

  it('refuses a database migrated by a newer build with TUN_ERR_INTERNAL', async () => {
    const file = join(dir, 'future.db');
    await (await openSqliteStore({ file })).close();
    const raw = new SqliteDatabase(file);
    raw.prepare(`insert into ${MIGRATION_TABLE} (name, timestamp) values (?, ?)`).run('9999-future', 'x');
    raw.close();
    const err = await rejection(openSqliteStore({ file }));
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_INTERNAL');
  });

  it('rolls a failed migration back completely', async () => {
    const file = join(dir, 'rollback.db');
    const broken: Record<string, Migration> = {
      ...MIGRATIONS,
      '9000-broken': {
        async up(db) {
          await db.schema.createTable('half_done').addColumn('id', 'text').execute();
          await sql`this is not sql`.execute(db);
        },
      },
    };
    const db = new Kysely<unknown>({
      dialect: new BurrowSqliteDialect({ database: openSqliteDatabase({ file }) }),
    });
    const err = await rejection(migrateToLatest(db, broken));
    await db.destroy();
    expect((err as TunnelError).code).toBe('TUN_ERR_INTERNAL');
    expect((err as TunnelError).message).toContain('9000-broken');
    const raw = new SqliteDatabase(file, { readonly: true });
    const tables = raw.prepare("select name from sqlite_master where type = 'table'").pluck().all();
    const applied = raw.prepare(`select name from ${MIGRATION_TABLE}`).pluck().all();
    raw.close();
    // All pending migrations run in one transaction, so nothing of the run remains.
    expect(tables).not.toContain('half_done');
    expect(tables).not.toContain('api_keys');
    expect(applied).toEqual([]);
  });

  it('stores only the hash of an API key secret', async () => {
    const file = join(dir, 'hashed.db');
    const store = await openSqliteStore({ file });
    const { record, secret } = await store.createApiKey({ label: 'hash-me' });
    await store.close();
    const raw = new SqliteDatabase(file, { readonly: true });
    const row = raw.prepare('select * from api_keys where id = ?').get(record.id) as Record<string, unknown>;
    raw.close();
    expect(row.hash).toBe(hashSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret.slice(12));
    // After close the WAL is checkpointed into the file; the secret must not be in it either.
    expect((await readFile(file)).includes(secret.slice(12))).toBe(false);
  });

  it('stores timestamps as integer milliseconds', async () => {
    const file = join(dir, 'millis.db');
    const store = await openSqliteStore({ file, clock: { now: () => 1_700_000_000_123.9 } });
    await store.createTunnel({ name: 't', kind: 'temporary', ownerKeyId: null, resumeTokenHash: null });
    await store.close();
    const raw = new SqliteDatabase(file, { readonly: true });
    const row = raw.prepare('select created_at, typeof(created_at) as type from tunnels').get();
    raw.close();
    expect(row).toEqual({ created_at: 1_700_000_000_123, type: 'integer' });
  });

  it('rejects a kind outside the two allowed ones at the database level', async () => {
    const file = join(dir, 'check.db');
    await (await openSqliteStore({ file })).close();
    const raw = openSqliteDatabase({ file });
    expect(() =>
      raw
        .prepare("insert into tunnels (name, kind, created_at, last_active_at) values ('x', 'forever', 0, 0)")
        .run(),
    ).toThrow();
    raw.close();
  });

  it('works on an in-memory database', async () => {
    const store = await openSqliteStore({ file: ':memory:' });
    expect(
      await store.createTunnel({ name: 'm', kind: 'named', ownerKeyId: null, resumeTokenHash: null }),
    ).toBe(true);
    await store.close();
  });

  it('fails with TUN_ERR_CONFIG_INVALID when the file cannot be opened', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    for (const options of [
      { file: join(blocker, 'burrow.db') },
      { file: '' },
      { file: join(dir, 'ok.db'), busyTimeoutMs: -1 },
    ]) {
      const err = await rejection(openSqliteStore(options));
      expect(err).toBeInstanceOf(TunnelError);
      expect((err as TunnelError).code).toBe('TUN_ERR_CONFIG_INVALID');
    }
  });

  it('fails with TUN_ERR_CONFIG_INVALID on a file that is not a database', async () => {
    const file = join(dir, 'garbage.db');
    await writeFile(file, Buffer.alloc(4096, 0x41));
    const err = await rejection(openSqliteStore({ file }));
    expect(err).toBeInstanceOf(TunnelError);
    expect(['TUN_ERR_CONFIG_INVALID', 'TUN_ERR_INTERNAL']).toContain((err as TunnelError).code);
  });
});
