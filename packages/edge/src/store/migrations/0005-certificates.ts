/**
 * Migration 0005: what ACME needs in shared storage, so every edge on one PostgreSQL serves
 * the same certificates and answers the same challenges:
 *
 * - `acme_accounts`: one account per directory URL (key sealed with the edge secret);
 * - `certificates`: one row per order name (a host, or `*.domain` for a wildcard): the PEM
 *   chain, the sealed private key, validity, the last error and when to try again, and a
 *   short order lock so two edges do not order the same name at once;
 * - `acme_challenges`: HTTP-01 tokens and their key authorizations until they expire.
 *
 * Additive only (new tables). Portable DDL like 0001. Frozen once released.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('acme_accounts')
    .addColumn('directory_url', 'text', (col) => col.primaryKey().notNull())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('key_sealed', 'text', (col) => col.notNull())
    .addColumn('account_url', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('name', 'text', (col) => col.primaryKey().notNull())
    // Comma-separated lower-case DNS names the certificate covers (or is ordered for).
    .addColumn('hosts', 'text', (col) => col.notNull())
    .addColumn('origin', 'text', (col) => col.notNull())
    .addColumn('cert_pem', 'text')
    .addColumn('key_sealed', 'text')
    .addColumn('not_before', 'bigint')
    .addColumn('not_after', 'bigint')
    .addColumn('issuer', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('renew_requested', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`renew_requested in (0, 1)`),
    )
    .addColumn('order_holder', 'text')
    .addColumn('order_until', 'bigint')
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
  // Serves the renewal pass (certificates by expiry).
  await db.schema.createIndex('certificates_not_after_idx').on('certificates').column('not_after').execute();

  await db.schema
    .createTable('acme_challenges')
    .addColumn('token', 'text', (col) => col.primaryKey().notNull())
    .addColumn('key_authorization', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();
}
