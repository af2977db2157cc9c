/**
 * Runs the store's versioned migrations. They are listed in code rather than read from a
 * folder at run time, so the built package needs no file-system layout and a bundler
 * cannot drop one.
 */
import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import * as initial from './migrations/0001-initial.js';
import * as tenancy from './migrations/0002-tenancy.js';
import * as tunnelPolicy from './migrations/0003-tunnel-policy.js';
import * as tunnelSession from './migrations/0004-tunnel-session.js';
import * as certificates from './migrations/0005-certificates.js';
import * as requestHistory from './migrations/0006-request-history.js';

/**
 * Every migration, keyed by name. Kysely applies them in name order, hence the zero-padded
 * numbers; append new ones, never rename or edit released ones.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-tenancy': tenancy,
  '0003-tunnel-policy': tunnelPolicy,
  '0004-tunnel-session': tunnelSession,
  '0005-certificates': certificates,
  '0006-request-history': requestHistory,
};

/** Bookkeeping tables, named for Burrow so they do not clash with an app sharing the database. */
export const MIGRATION_TABLE = 'burrow_migration';
export const MIGRATION_LOCK_TABLE = 'burrow_migration_lock';

export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Readonly<Record<string, Migration>> = MIGRATIONS) {}

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...this.migrations });
  }
}

/**
 * Brings the database to the latest schema; a no-op when it is already there. Returns the
 * names of the migrations applied. The pending migrations run in one transaction under a
 * lock (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite via BurrowSqliteDialect),
 * so edges starting together do not race and a failure leaves the schema as it was.
 * Fails with TUN_ERR_INTERNAL when a migration fails or the database holds migrations this
 * build does not know (a newer version wrote it).
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  migrations: Readonly<Record<string, Migration>> = MIGRATIONS,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(migrations),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'store migrations failed' : `store migration ${failed} failed`;
    const detail = error instanceof Error ? `: ${error.message}` : '';
    throw new TunnelError('TUN_ERR_INTERNAL', what + detail, { cause: error });
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
