/**
 * The Store written once against Kysely, for any dialect whose database has been migrated
 * with `migrateToLatest`. Only SQL that SQLite (3.35+) and PostgreSQL share: RETURNING,
 * ON CONFLICT DO NOTHING, conditional UPDATEs, scalar subqueries, joins; no dialect
 * functions, dates or booleans. Keys, users and domains live in api-key-queries.ts,
 * user-queries.ts and domain-queries.ts, name ownership in tunnel-ownership.ts, request
 * history in request-queries.ts and request-prune.ts; this class runs them all, each call
 * through `#run`.
 */
import type { Kysely } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import * as keys from './api-key-queries.js';
import * as certs from './certificate-queries.js';
import { constraintViolationOf } from './constraint-violation.js';
import { DirtyTunnels } from './dirty-tunnels.js';
import * as domains from './domain-queries.js';
import { toSessionRecord, toTunnelRecord } from './row-mapping.js';
import * as requests from './request-queries.js';
import { normalisedKeep, pruneRequestRecords } from './request-prune.js';
import type { RequestPage, RequestPruneStats, RequestQuery, RequestRecord } from './request-records.js';
import type { Database } from './schema.js';
import type {
  AcmeAccountRecord,
  AddDomainInput,
  CertificateFailureInput,
  CertificateRecord,
  SaveAcmeAccountInput,
  SaveCertificateInput,
  StoredCertificateOrigin,
  ApiKeyRecord,
  Clock,
  CreateApiKeyInput,
  CreateTunnelInput,
  CreateUserInput,
  DomainRecord,
  ListApiKeysOptions,
  ListDomainsOptions,
  ListSessionsOptions,
  RandomBytes,
  ReserveNameInput,
  SessionRecord,
  SessionStartInput,
  Store,
  TunnelRecord,
  UserRecord,
  VerifiedApiKey,
} from './store.js';
import { findTunnel, releaseName, reserveName, selectTunnels, withinNameLimit } from './tunnel-ownership.js';
import * as users from './user-queries.js';

export const DEFAULT_SESSION_LIST_LIMIT = 100;
export const MAX_SESSION_LIST_LIMIT = 1_000;

export interface KyselyStoreOptions {
  /** Migrated database; the store owns it from here and destroys it on `close()`. */
  db: Kysely<Database>;
  clock: Clock;
  random: RandomBytes;
}

export class KyselyStore implements Store {
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  /** Tunnels inserted for since the last retention pass: the only ones whose count it checks. */
  readonly #dirty = new DirtyTunnels();
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

  createUser(input: CreateUserInput): Promise<UserRecord> {
    return this.#run('createUser', (db) => users.createUser(db, input, this.#random, this.#now()));
  }

  getUser(id: string): Promise<UserRecord | undefined> {
    return this.#run('getUser', (db) => users.getUser(db, id));
  }

  getUserByName(name: string): Promise<UserRecord | undefined> {
    return this.#run('getUserByName', (db) => users.getUserByName(db, name));
  }

  listUsers(): Promise<UserRecord[]> {
    return this.#run('listUsers', (db) => users.listUsers(db));
  }

  disableUser(id: string): Promise<UserRecord | null> {
    return this.#run('disableUser', (db) => users.setUserDisabled(db, id, true, this.#now()));
  }

  enableUser(id: string): Promise<UserRecord | null> {
    return this.#run('enableUser', (db) => users.setUserDisabled(db, id, false, this.#now()));
  }

  isUserActive(id: string): Promise<boolean> {
    return this.#run('isUserActive', (db) => users.isUserActive(db, id));
  }

  createApiKey(input: CreateApiKeyInput): Promise<{ record: ApiKeyRecord; secret: string }> {
    return this.#run('createApiKey', (db) => keys.createApiKey(db, input, this.#random, this.#now()));
  }

  listApiKeys(opts: ListApiKeysOptions = {}): Promise<ApiKeyRecord[]> {
    return this.#run('listApiKeys', (db) => keys.listApiKeys(db, opts));
  }

  revokeApiKey(idOrPrefix: string): Promise<ApiKeyRecord | null> {
    return this.#run('revokeApiKey', (db) => keys.revokeApiKey(db, idOrPrefix, this.#now()));
  }

  verifyApiKey(secret: string): Promise<VerifiedApiKey | null> {
    return this.#run('verifyApiKey', (db) => keys.verifyApiKey(db, secret, this.#now()));
  }

  getTunnel(name: string): Promise<TunnelRecord | undefined> {
    return this.#run('getTunnel', (db) => findTunnel(db, name));
  }

  createTunnel(rec: CreateTunnelInput): Promise<boolean> {
    return this.#run('createTunnel', async (db) => {
      const limit = rec.maxNamedPerUser;
      if (rec.kind !== 'named' || limit === undefined || rec.ownerKeyId === null) {
        return this.#insertTunnel(db, rec);
      }
      const owner = await db
        .selectFrom('api_keys')
        .select('user_id')
        .where('id', '=', rec.ownerKeyId)
        .executeTakeFirst();
      if (owner?.user_id == null) return this.#insertTunnel(db, rec);
      // Taken already: no new name, so nothing to count (and the caller learns who holds it).
      if ((await findTunnel(db, rec.name)) !== undefined) return false;
      return withinNameLimit(db, owner.user_id, limit, (trx) => this.#insertTunnel(trx, rec));
    });
  }

  async #insertTunnel(db: Kysely<Database>, rec: CreateTunnelInput): Promise<boolean> {
    const now = this.#now();
    try {
      const result = await db
        .insertInto('tunnels')
        .values({
          name: rec.name,
          kind: rec.kind,
          owner_key_id: rec.ownerKeyId,
          // The key's user, read in the same statement: a key's tunnels belong to its user.
          owner_user_id:
            rec.ownerKeyId === null
              ? null
              : db.selectFrom('api_keys').select('user_id').where('id', '=', rec.ownerKeyId),
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
  }

  setTunnelResumeToken(name: string, hash: string | null, sessionId?: string): Promise<TunnelRecord> {
    return this.#run('setTunnelResumeToken', async (db) => {
      const holder = sessionId === undefined ? {} : { session_id: sessionId };
      const result = await db
        .updateTable('tunnels')
        .set({ resume_token_hash: hash, last_active_at: this.#now(), ...holder })
        .where('name', '=', name)
        .executeTakeFirst();
      const record = result.numUpdatedRows === 0n ? undefined : await findTunnel(db, name);
      if (record === undefined) throw new TunnelError('TUN_ERR_TUNNEL_NOT_FOUND', `no tunnel named ${name}`);
      return record;
    });
  }

  listTunnelsOfOpenSessions(): Promise<string[]> {
    return this.#run('listTunnelsOfOpenSessions', async (db) => {
      const rows = await db
        .selectFrom('tunnels')
        .innerJoin('sessions', 'sessions.id', 'tunnels.session_id')
        .select('tunnels.name')
        .where('sessions.disconnected_at', 'is', null)
        .orderBy('tunnels.name')
        .execute();
      return rows.map((row) => row.name);
    });
  }

  releaseTunnelHolder(name: string, sessionId: string, successor: string | null = null): Promise<void> {
    return this.#run('releaseTunnelHolder', async (db) => {
      await db
        .updateTable('tunnels')
        .set({ session_id: successor })
        .where('name', '=', name)
        .where('session_id', '=', sessionId)
        .execute();
    });
  }

  setTunnelPolicy(name: string, policy: Record<string, unknown> | null): Promise<TunnelRecord | null> {
    return this.#run('setTunnelPolicy', async (db) => {
      const result = await db
        .updateTable('tunnels')
        .set({ policy: policy === null ? null : JSON.stringify(policy) })
        .where('name', '=', name)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return null;
      return (await findTunnel(db, name)) ?? null;
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
      const rows = await selectTunnels(db)
        .where('tunnels.last_active_at', '>=', since.getTime())
        .orderBy('tunnels.last_active_at', 'desc')
        .orderBy('tunnels.name')
        .execute();
      return rows.map(toTunnelRecord);
    });
  }

  listTunnelsOwnedBy(keyId: string): Promise<TunnelRecord[]> {
    return this.#run('listTunnelsOwnedBy', async (db) => {
      const rows = await selectTunnels(db)
        .where('tunnels.owner_key_id', '=', keyId)
        .orderBy('tunnels.name')
        .execute();
      return rows.map(toTunnelRecord);
    });
  }

  listTunnelsOwnedByUser(userId: string): Promise<TunnelRecord[]> {
    return this.#run('listTunnelsOwnedByUser', async (db) => {
      const rows = await selectTunnels(db)
        .where('tunnels.owner_user_id', '=', userId)
        .orderBy('tunnels.name')
        .execute();
      return rows.map(toTunnelRecord);
    });
  }

  reserveName(input: ReserveNameInput): Promise<TunnelRecord> {
    return this.#run('reserveName', (db) => reserveName(db, input, this.#now()));
  }

  releaseName(input: ReserveNameInput): Promise<boolean> {
    return this.#run('releaseName', (db) => releaseName(db, input));
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
      if (opts.userId !== undefined) {
        const userId = opts.userId;
        query = query.where('key_id', 'in', (eb) =>
          eb.selectFrom('api_keys').select('id').where('user_id', '=', userId),
        );
      }
      const rows = await query
        .orderBy('connected_at', 'desc')
        .orderBy('id', 'desc')
        .limit(sessionListLimit(opts.limit))
        .execute();
      return rows.map(toSessionRecord);
    });
  }

  addDomain(input: AddDomainInput): Promise<DomainRecord> {
    return this.#run('addDomain', (db) => domains.addDomain(db, input, this.#random, this.#now()));
  }

  getDomain(hostname: string): Promise<DomainRecord | undefined> {
    return this.#run('getDomain', (db) => domains.getDomain(db, hostname));
  }

  listDomains(opts: ListDomainsOptions = {}): Promise<DomainRecord[]> {
    return this.#run('listDomains', (db) => domains.listDomains(db, opts));
  }

  markDomainVerified(hostname: string): Promise<DomainRecord | null> {
    return this.#run('markDomainVerified', (db) => domains.markDomainVerified(db, hostname, this.#now()));
  }

  setDomainTunnel(hostname: string, tunnelName: string | null): Promise<DomainRecord | null> {
    return this.#run('setDomainTunnel', (db) => domains.setDomainTunnel(db, hostname, tunnelName));
  }

  removeDomain(hostname: string, opts: { userId?: string } = {}): Promise<boolean> {
    return this.#run('removeDomain', (db) => domains.removeDomain(db, hostname, opts));
  }

  getAcmeAccount(directoryUrl: string): Promise<AcmeAccountRecord | undefined> {
    return this.#run('getAcmeAccount', (db) => certs.getAcmeAccount(db, directoryUrl));
  }

  saveAcmeAccount(input: SaveAcmeAccountInput): Promise<AcmeAccountRecord> {
    return this.#run('saveAcmeAccount', (db) => certs.saveAcmeAccount(db, input, this.#now()));
  }

  getCertificate(name: string): Promise<CertificateRecord | undefined> {
    return this.#run('getCertificate', (db) => certs.getCertificate(db, name));
  }

  listCertificates(opts: { withCertificate?: boolean } = {}): Promise<CertificateRecord[]> {
    return this.#run('listCertificates', (db) => certs.listCertificates(db, opts));
  }

  saveCertificate(input: SaveCertificateInput): Promise<CertificateRecord> {
    return this.#run('saveCertificate', (db) => certs.saveCertificate(db, input, this.#now()));
  }

  recordCertificateFailure(input: CertificateFailureInput): Promise<CertificateRecord> {
    return this.#run('recordCertificateFailure', (db) =>
      certs.recordCertificateFailure(db, input, this.#now()),
    );
  }

  claimCertificateOrder(
    input: { name: string; hosts: readonly string[]; origin: StoredCertificateOrigin },
    holder: string,
    until: Date,
  ): Promise<boolean> {
    return this.#run('claimCertificateOrder', (db) =>
      certs.claimCertificateOrder(db, input, holder, until.getTime(), this.#now()),
    );
  }

  requestCertificateRenewal(name: string): Promise<boolean> {
    return this.#run('requestCertificateRenewal', (db) =>
      certs.requestCertificateRenewal(db, name, this.#now()),
    );
  }

  removeCertificate(name: string): Promise<boolean> {
    return this.#run('removeCertificate', (db) => certs.removeCertificate(db, name));
  }

  putAcmeChallenge(token: string, keyAuthorization: string, expiresAt: Date): Promise<void> {
    return this.#run('putAcmeChallenge', (db) =>
      certs.putAcmeChallenge(db, token, keyAuthorization, expiresAt.getTime()),
    );
  }

  getAcmeChallenge(token: string): Promise<string | undefined> {
    return this.#run('getAcmeChallenge', (db) => certs.getAcmeChallenge(db, token, this.#now()));
  }

  deleteAcmeChallenge(token: string): Promise<void> {
    return this.#run('deleteAcmeChallenge', (db) => certs.deleteAcmeChallenge(db, token, this.#now()));
  }

  async insertRequestRecords(records: readonly RequestRecord[]): Promise<void> {
    try {
      await this.writeRequestRecords(records);
    } finally {
      // After the write settles, never before: a pass that took the set in between checks
      // these tunnels before their rows exist, and then never again.
      this.#dirty.mark(records);
    }
  }

  /** The insert itself; SqliteStore sends it to its insert thread. */
  protected writeRequestRecords(records: readonly RequestRecord[]): Promise<void> {
    return this.#run('insertRequestRecords', (db) => requests.insertRequestRecords(db, records));
  }

  listRequestRecords(query: RequestQuery): Promise<RequestPage> {
    return this.#run('listRequestRecords', (db) => requests.listRequestRecords(db, query));
  }

  getRequestRecord(id: string): Promise<RequestRecord | null> {
    return this.#run('getRequestRecord', (db) => requests.getRequestRecord(db, id));
  }

  pruneRequestRecords(options: { olderThan: Date; keepPerTunnel: number }): Promise<RequestPruneStats> {
    return this.#run('pruneRequestRecords', async (db) => {
      // Normalised before the take: a fractional cap just under the last one is the same cap.
      const keep = normalisedKeep(options.keepPerTunnel);
      const scope = this.#dirty.take(keep);
      try {
        return await pruneRequestRecords(db, { olderThan: options.olderThan, keep }, scope, this.#dirty);
      } catch (err) {
        this.#dirty.restore(scope);
        throw err;
      }
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
