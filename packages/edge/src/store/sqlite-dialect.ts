/**
 * Kysely's SQLite dialect with two corrections the store relies on:
 *
 * - Transactions start with BEGIN IMMEDIATE, taking the write lock up front. With the
 *   default deferred BEGIN, two connections that both read and then write deadlock on the
 *   upgrade, and in WAL mode the loser fails at once (SQLITE_BUSY_SNAPSHOT) instead of
 *   waiting out busy_timeout.
 * - Migrations run in a transaction. SQLite supports transactional DDL but Kysely's
 *   adapter says it does not, which would leave a half-applied migration behind on failure
 *   and let two processes migrating one fresh file at once both try to create the tables.
 *   Inside BEGIN IMMEDIATE the second waits, then sees the migrations already applied.
 */
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, DialectAdapter, Driver, SqliteDialectConfig } from 'kysely';

class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class BurrowSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
