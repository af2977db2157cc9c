/**
 * The Store written once against Kysely, for any dialect whose database has been migrated
 * with `migrateToLatest`. Only SQL that SQLite (3.35+) and PostgreSQL share: RETURNING,
 * ON CONFLICT DO NOTHING, conditional UPDATEs; no dialect functions, dates or booleans.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { generateApiKeySecret, parseApiKeyPrefix } from './api-key-secret.js';
import { constraintViolationOf } from './constraint-violation.js';
import { randomBase62 } from './random-base62.js';
import { toApiKeyRecord, toSessionRecord, toTunnelRecord } from './row-mapping.js';
import type { Database } from './schema.js';
import { hashSecret, hashesEqual } from './secret-hash.js';
import type {
  ApiKeyRecord,
  Clock,
  CreateTunnelInput,
  ListSessionsOptions,
  RandomBytes,
  SessionRecord,
  SessionStartInput,
  Store,
  TunnelRecord,
} from './store.js';

export const DEFAULT_SESSION_LIST_LIMIT = 100;
export const MAX_SESSION_LIST_LIMIT = 1_000;

// A prefix collision needs two 8-character base62 draws to match (1 in 2e14); a few
// retries cover bad luck, and repeated collisions mean the random source is not random.
const CREATE_KEY_ATTEMPTS = 4;

export interface KyselyStoreOptions {
  /** Migrated database; the store owns it from here and destroys it on `close()`. */
  db: Kysely<Database>;
  clock: Clock;
  random: RandomBytes;
}

export class KyselyStore implements Store {
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  #db: Kysely<Database> | null;

  constructor(options: KyselyStoreOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#random = options.random;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = null;
    await db?.destroy();
  }

  createApiKey(input: { label: string }): Promise<{ record: ApiKeyRecord; secret: string }> {
    return this.#run('createApiKey', async (db) => {
      for (let attempt = 0; attempt < CREATE_KEY_ATTEMPTS; attempt++) {
        const { prefix, secret } = generateApiKeySecret(this.#random);
        const row = await db
          .insertInto('api_keys')
          .values({
            id: `key_${randomBase62(this.#random, 16)}`,
            prefix,
            hash: hashSecret(secret),
            label: input.label,
            created_at: this.#now(),
            last_used_at: null,
            revoked_at: null,
          })
          // Targetless: an id collision is as retryable as a prefix collision.
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst();
        if (row !== undefined) return { record: toApiKeyRecord(row), secret };
      }
      throw new TunnelError(
        'TUN_ERR_INTERNAL',
        'could not find an unused API key prefix; is the random source random?',
      );
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.#run('listApiKeys', async (db) => {
      const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toApiKeyRecord);
    });
  }

  revokeApiKey(idOrPrefix: string): Promise<ApiKeyRecord | null> {
    return this.#run('revokeApiKey', async (db) => {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: this.#now() })
        .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
        .where('revoked_at', 'is', null)
        .execute();
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
        .executeTakeFirst();
      return row === undefined ? null : toApiKeyRecord(row);
    });
  }

  verifyApiKey(secret: string): Promise<ApiKeyRecord | null> {
    return this.#run('verifyApiKey', async (db) => {
      const prefix = parseApiKeyPrefix(secret);
      if (prefix === null) return null;
      const found = await db
        .selectFrom('api_keys')
        .select(['id', 'hash', 'revoked_at'])
        .where('prefix', '=', prefix)
        .executeTakeFirst();
      if (found === undefined || found.revoked_at !== null) return null;
      if (!hashesEqual(hashSecret(secret), found.hash)) return null;
      // Re-checking revoked_at here makes a revoke that lands between the read and this
      // write win: the key is refused rather than marked used.
      const row = await db
        .updateTable('api_keys')
        .set({ last_used_at: this.#now() })
        .where('id', '=', found.id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? null : toApiKeyRecord(row);
    });
  }

  getTunnel(name: string): Promise<TunnelRecord | undefined> {
    return this.#run('getTunnel', async (db) => {
      const row = await db.selectFrom('tunnels').selectAll().where('name', '=', name).executeTakeFirst();
      return row === undefined ? undefined : toTunnelRecord(row);
    });
  }

  createTunnel(rec: CreateTunnelInput): Promise<boolean> {
    return this.#run('createTunnel', async (db) => {
      const now = this.#now();
      try {
        const result = await db
          .insertInto('tunnels')
          .values({
            name: rec.name,
            kind: rec.kind,
            owner_key_id: rec.ownerKeyId,
            resume_token_hash: rec.resumeTokenHash,
            created_at: now,
            last_active_at: now,
          })
          // One statement decides the race between two sessions claiming the same name.
          .onConflict((oc) => oc.column('name').doNothing())
          .executeTakeFirst();
        return result.numInsertedOrUpdatedRows === 1n;
      } catch (err) {
        if (constraintViolationOf(err) === 'foreign-key') {
          throw new TunnelError('TUN_ERR_NOT_FOUND', `no API key has id ${String(rec.ownerKeyId)}`, {
            cause: err,
          });
        }
        throw err;
      }
    });
  }

  setTunnelResumeToken(name: string, hash: string | null): Promise<void> {
    return this.#run('setTunnelResumeToken', async (db) => {
      const result = await db
        .updateTable('tunnels')
        .set({ resume_token_hash: hash })
        .where('name', '=', name)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n)
        throw new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `no tunnel named ${name}`);
    });
  }

  touchTunnel(name: string): Promise<void> {
    return this.#run('touchTunnel', async (db) => {
      await db.updateTable('tunnels').set({ last_active_at: this.#now() }).where('name', '=', name).execute();
    });
  }

  deleteTunnel(name: string): Promise<boolean> {
    return this.#run('deleteTunnel', async (db) => {
      const result = await db.deleteFrom('tunnels').where('name', '=', name).executeTakeFirst();
      return result.numDeletedRows === 1n;
    });
  }

  listTunnelsActiveSince(since: Date): Promise<TunnelRecord[]> {
    return this.#run('listTunnelsActiveSince', async (db) => {
      const rows = await db
        .selectFrom('tunnels')
        .selectAll()
        .where('last_active_at', '>=', since.getTime())
        .orderBy('last_active_at', 'desc')
        .orderBy('name')
        .execute();
      return rows.map(toTunnelRecord);
    });
  }

  listTunnelsOwnedBy(keyId: string): Promise<TunnelRecord[]> {
    return this.#run('listTunnelsOwnedBy', async (db) => {
      const rows = await db
        .selectFrom('tunnels')
        .selectAll()
        .where('owner_key_id', '=', keyId)
        .orderBy('name')
        .execute();
      return rows.map(toTunnelRecord);
    });
  }

  deleteTemporaryTunnelsIdleSince(before: Date): Promise<string[]> {
    return this.#run('deleteTemporaryTunnelsIdleSince', async (db) => {
      // One DELETE ... RETURNING, so a tunnel touched while the janitor runs is either
      // deleted before the touch or kept; never reported deleted but still present.
      const rows = await db
        .deleteFrom('tunnels')
        .where('kind', '=', 'temporary')
        .where('last_active_at', '<', before.getTime())
        .returning('name')
        .execute();
      return rows.map((row) => row.name).sort();
    });
  }

  recordSessionStart(rec: SessionStartInput): Promise<void> {
    return this.#run('recordSessionStart', async (db) => {
      try {
        await db
          .insertInto('sessions')
          .values({
            id: rec.id,
            key_id: rec.keyId,
            agent: rec.agent,
            remote_address: rec.remoteAddress,
            connected_at: this.#now(),
            disconnected_at: null,
            reason: null,
          })
          .execute();
      } catch (err) {
        const violation = constraintViolationOf(err);
        if (violation === 'foreign-key') {
          throw new TunnelError('TUN_ERR_NOT_FOUND', `no API key has id ${String(rec.keyId)}`, {
            cause: err,
          });
        }
        if (violation === 'unique') {
          throw new TunnelError('TUN_ERR_INTERNAL', `session ${rec.id} was already recorded`, { cause: err });
        }
        throw err;
      }
    });
  }

  recordSessionEnd(id: string, reason: string): Promise<void> {
    return this.#run('recordSessionEnd', async (db) => {
      await db
        .updateTable('sessions')
        .set({ disconnected_at: this.#now(), reason })
        .where('id', '=', id)
        .where('disconnected_at', 'is', null)
        .execute();
    });
  }

  closeDanglingSessions(reason: string): Promise<number> {
    return this.#run('closeDanglingSessions', async (db) => {
      const result = await db
        .updateTable('sessions')
        .set({ disconnected_at: this.#now(), reason })
        .where('disconnected_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  listSessions(opts: ListSessionsOptions = {}): Promise<SessionRecord[]> {
    return this.#run('listSessions', async (db) => {
      let query = db.selectFrom('sessions').selectAll();
      if (opts.keyId !== undefined) query = query.where('key_id', '=', opts.keyId);
      const rows = await query
        .orderBy('connected_at', 'desc')
        .orderBy('id', 'desc')
        .limit(sessionListLimit(opts.limit))
        .execute();
      return rows.map(toSessionRecord);
    });
  }

  /** Integer ms: a fractional fake clock must not reach a bigint column (PostgreSQL rejects it). */
  #now(): number {
    return Math.floor(this.#clock.now());
  }

  /**
   * Runs one operation with the open database, turning driver errors into TunnelErrors so
   * callers never see a backend-specific error type.
   */
  async #run<T>(operation: string, body: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const db = this.#db;
    if (db === null) throw new TunnelError('TUN_ERR_INTERNAL', `store is closed (${operation})`);
    try {
      return await body(db);
    } catch (err) {
      if (err instanceof TunnelError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new TunnelError('TUN_ERR_INTERNAL', `store ${operation} failed: ${detail}`, { cause: err });
    }
  }
}

/** The page size for `listSessions`: default when absent or not a number, clamped otherwise. */
function sessionListLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_SESSION_LIST_LIMIT;
  return Math.min(MAX_SESSION_LIST_LIMIT, Math.max(1, Math.trunc(limit)));
}
