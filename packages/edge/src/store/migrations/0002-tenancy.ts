/**
 * Migration 0002: users, key scopes, user-owned tunnel names, custom domains. Additive
 * only (new tables, new nullable or defaulted columns), so every existing row survives:
 *
 * - a `default` admin user (id `usr_default`) is created and owns every existing key;
 * - existing keys get the scopes `agent,api`;
 * - existing tunnels belong to their owner key's user (anonymous ones to nobody).
 *
 * Portable DDL and DML only, like 0001. No `down`: SQLite cannot drop a column that takes
 * part in a foreign key, so undoing this means restoring a backup taken before upgrading.
 *
 * Frozen once released: later changes go in a new numbered file, never here.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

// Copies of the values the store uses (user-name.ts, api-key-scopes.ts): a migration must
// keep doing what it did when released, whatever later code changes.
const DEFAULT_USER_ID = 'usr_default';
const DEFAULT_USER_NAME = 'default';
const DEFAULT_SCOPES = 'agent,api';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey().notNull())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('is_admin', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`is_admin in (0, 1)`),
    )
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();
  // The time of the upgrade: migrations get no injected clock, and this row is made once.
  await sql`insert into users (id, name, is_admin, created_at, disabled_at)
            values (${DEFAULT_USER_ID}, ${DEFAULT_USER_NAME}, 1, ${Date.now()}, null)`.execute(db);

  // SQLite adds a REFERENCES column only with a NULL default, hence nullable; the store
  // always writes it, and the update below fills it for every existing key. Users are
  // disabled rather than deleted, so no ON DELETE action: deleting a user with keys fails.
  await db.schema
    .alterTable('api_keys')
    .addColumn('user_id', 'text', (col) => col.references('users.id'))
    .execute();
  await db.schema
    .alterTable('api_keys')
    .addColumn('scopes', 'text', (col) => col.notNull().defaultTo(DEFAULT_SCOPES))
    .execute();
  await sql`update api_keys set user_id = ${DEFAULT_USER_ID} where user_id is null`.execute(db);
  await db.schema.createIndex('api_keys_user_id_idx').on('api_keys').column('user_id').execute();

  await db.schema
    .alterTable('tunnels')
    .addColumn('owner_user_id', 'text', (col) => col.references('users.id').onDelete('set null'))
    .execute();
  await sql`update tunnels
            set owner_user_id = (select api_keys.user_id from api_keys where api_keys.id = tunnels.owner_key_id)
            where owner_key_id is not null`.execute(db);
  await db.schema.createIndex('tunnels_owner_user_id_idx').on('tunnels').column('owner_user_id').execute();

  await db.schema
    .createTable('domains')
    .addColumn('hostname', 'text', (col) => col.primaryKey().notNull())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('verification_token', 'text', (col) => col.notNull())
    // A released or reaped tunnel leaves its domains routing nowhere rather than blocking.
    .addColumn('tunnel_name', 'text', (col) => col.references('tunnels.name').onDelete('set null'))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('verified_at', 'bigint')
    .execute();
  await db.schema.createIndex('domains_user_id_idx').on('domains').column('user_id').execute();
  // Serves ON DELETE SET NULL when a tunnel goes, and "which domains route to this tunnel".
  await db.schema.createIndex('domains_tunnel_name_idx').on('domains').column('tunnel_name').execute();
}
