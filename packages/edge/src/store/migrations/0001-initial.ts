/**
 * Migration 0001: api_keys, tunnels, sessions. Portable DDL only (text, bigint, check
 * constraints, plain indexes) so the same file runs on SQLite and PostgreSQL.
 *
 * Migrations are frozen once released: later changes go in a new numbered file, never here.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

// Migrations see the schema as it was when they were written, not the current `Database`
// type, so they take an untyped Kysely.
export async function up(db: Kysely<unknown>): Promise<void> {
  // `notNull()` on text primary keys: SQLite, for historical reasons, lets a non-integer
  // PRIMARY KEY column hold NULL unless told otherwise.
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.primaryKey().notNull())
    .addColumn('prefix', 'text', (col) => col.notNull().unique())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  // Keys are revoked, not deleted; `set null` only matters if an operator deletes one by hand.
  await db.schema
    .createTable('tunnels')
    .addColumn('name', 'text', (col) => col.primaryKey().notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('temporary', 'named')`))
    .addColumn('owner_key_id', 'text', (col) => col.references('api_keys.id').onDelete('set null'))
    .addColumn('resume_token_hash', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_active_at', 'bigint', (col) => col.notNull())
    .execute();
  // Serves the janitor (kind = 'temporary' and last_active_at < t) and "active since" lists.
  await db.schema
    .createIndex('tunnels_kind_last_active_at_idx')
    .on('tunnels')
    .columns(['kind', 'last_active_at'])
    .execute();
  await db.schema.createIndex('tunnels_last_active_at_idx').on('tunnels').column('last_active_at').execute();
  await db.schema.createIndex('tunnels_owner_key_id_idx').on('tunnels').column('owner_key_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey().notNull())
    .addColumn('key_id', 'text', (col) => col.references('api_keys.id').onDelete('set null'))
    .addColumn('agent', 'text', (col) => col.notNull())
    .addColumn('remote_address', 'text', (col) => col.notNull())
    .addColumn('connected_at', 'bigint', (col) => col.notNull())
    .addColumn('disconnected_at', 'bigint')
    .addColumn('reason', 'text')
    .execute();
  await db.schema.createIndex('sessions_connected_at_idx').on('sessions').column('connected_at').execute();
  await db.schema
    .createIndex('sessions_key_id_connected_at_idx')
    .on('sessions')
    .columns(['key_id', 'connected_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Dropping a table drops its indexes on both dialects; children before parents for the FKs.
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('tunnels').execute();
  await db.schema.dropTable('api_keys').execute();
}
