/**
 * The certificate half of KyselyStore: the ACME account, certificates with their order
 * state and lock, HTTP-01 challenge tokens. Portable SQL only, as in kysely-store.ts.
 */
import type { ExpressionBuilder, Kysely, Selectable, UpdateObject } from 'kysely';
import { millisToDate } from './row-mapping.js';
import type { AcmeAccountsTable, CertificatesTable, Database } from './schema.js';
import type {
  AcmeAccountRecord,
  CertificateFailureInput,
  CertificateRecord,
  SaveAcmeAccountInput,
  SaveCertificateInput,
  StoredCertificateOrigin,
} from './store.js';

function optionalDate(value: number | string | bigint | null): Date | null {
  return value === null ? null : millisToDate(value);
}

function toAccountRecord(row: Selectable<AcmeAccountsTable>): AcmeAccountRecord {
  return {
    directoryUrl: row.directory_url,
    email: row.email,
    keySealed: row.key_sealed,
    accountUrl: row.account_url,
    createdAt: millisToDate(row.created_at),
  };
}

function toCertificateRecord(row: Selectable<CertificatesTable>): CertificateRecord {
  return {
    name: row.name,
    hosts: row.hosts === '' ? [] : row.hosts.split(','),
    origin: row.origin as StoredCertificateOrigin,
    certPem: row.cert_pem,
    keySealed: row.key_sealed,
    notBefore: optionalDate(row.not_before),
    notAfter: optionalDate(row.not_after),
    issuer: row.issuer,
    lastError: row.last_error,
    lastAttemptAt: optionalDate(row.last_attempt_at),
    nextAttemptAt: optionalDate(row.next_attempt_at),
    failures: Number(row.failures),
    renewRequested: Number(row.renew_requested) === 1,
  };
}

export async function getAcmeAccount(
  db: Kysely<Database>,
  directoryUrl: string,
): Promise<AcmeAccountRecord | undefined> {
  const row = await db
    .selectFrom('acme_accounts')
    .selectAll()
    .where('directory_url', '=', directoryUrl)
    .executeTakeFirst();
  return row === undefined ? undefined : toAccountRecord(row);
}

export async function saveAcmeAccount(
  db: Kysely<Database>,
  input: SaveAcmeAccountInput,
  now: number,
): Promise<AcmeAccountRecord> {
  await db
    .insertInto('acme_accounts')
    .values({
      directory_url: input.directoryUrl,
      email: input.email,
      key_sealed: input.keySealed,
      account_url: input.accountUrl,
      created_at: now,
    })
    .onConflict((oc) => oc.column('directory_url').doNothing())
    .execute();
  const stored = await getAcmeAccount(db, input.directoryUrl);
  // Only a concurrent delete by hand could get here.
  if (stored === undefined) throw new Error(`the ACME account for ${input.directoryUrl} vanished`);
  return stored;
}

export async function getCertificate(
  db: Kysely<Database>,
  name: string,
): Promise<CertificateRecord | undefined> {
  const row = await db.selectFrom('certificates').selectAll().where('name', '=', name).executeTakeFirst();
  return row === undefined ? undefined : toCertificateRecord(row);
}

async function requireCertificate(db: Kysely<Database>, name: string): Promise<CertificateRecord> {
  const record = await getCertificate(db, name);
  if (record === undefined) throw new Error(`the certificate row for ${name} vanished`);
  return record;
}

export async function listCertificates(
  db: Kysely<Database>,
  opts: { withCertificate?: boolean } = {},
): Promise<CertificateRecord[]> {
  let query = db.selectFrom('certificates').selectAll();
  if (opts.withCertificate === true) query = query.where('cert_pem', 'is not', null);
  const rows = await query.orderBy('name').execute();
  return rows.map(toCertificateRecord);
}

/** Inserts an empty row for a name (no certificate yet) unless one is there. */
async function ensureRow(
  db: Kysely<Database>,
  input: { name: string; hosts: readonly string[]; origin: StoredCertificateOrigin },
  now: number,
): Promise<void> {
  await db
    .insertInto('certificates')
    .values({ name: input.name, hosts: input.hosts.join(','), origin: input.origin, updated_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/**
 * Ends an order attempt, saved or failed, with `fields` for its outcome: the order lock is
 * released and a renewal asked for has been tried (from here the back-off decides).
 */
async function endAttempt(
  db: Kysely<Database>,
  input: { name: string; hosts: readonly string[]; origin: StoredCertificateOrigin },
  now: number,
  fields: (eb: ExpressionBuilder<Database, 'certificates'>) => UpdateObject<Database, 'certificates'>,
): Promise<CertificateRecord> {
  await ensureRow(db, input, now);
  await db
    .updateTable('certificates')
    .set((eb) => ({
      ...fields(eb),
      last_attempt_at: now,
      renew_requested: 0,
      order_holder: null,
      order_until: null,
      updated_at: now,
    }))
    .where('name', '=', input.name)
    .execute();
  return requireCertificate(db, input.name);
}

export function saveCertificate(
  db: Kysely<Database>,
  input: SaveCertificateInput,
  now: number,
): Promise<CertificateRecord> {
  return endAttempt(db, input, now, () => ({
    hosts: input.hosts.join(','),
    origin: input.origin,
    cert_pem: input.certPem,
    key_sealed: input.keySealed,
    not_before: input.notBefore.getTime(),
    not_after: input.notAfter.getTime(),
    issuer: input.issuer,
    last_error: null,
    next_attempt_at: null,
    failures: 0,
  }));
}

export function recordCertificateFailure(
  db: Kysely<Database>,
  input: CertificateFailureInput,
  now: number,
): Promise<CertificateRecord> {
  return endAttempt(db, input, now, (eb) => ({
    last_error: input.error,
    next_attempt_at: input.nextAttemptAt?.getTime() ?? null,
    failures: eb('failures', '+', 1),
  }));
}

export async function claimCertificateOrder(
  db: Kysely<Database>,
  input: { name: string; hosts: readonly string[]; origin: StoredCertificateOrigin },
  holder: string,
  until: number,
  now: number,
): Promise<boolean> {
  await ensureRow(db, input, now);
  // One conditional UPDATE: free, expired or already ours. Atomic on both backends.
  const result = await db
    .updateTable('certificates')
    .set({ order_holder: holder, order_until: until, updated_at: now })
    .where('name', '=', input.name)
    .where((eb) =>
      eb.or([eb('order_holder', 'is', null), eb('order_until', '<=', now), eb('order_holder', '=', holder)]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function requestCertificateRenewal(
  db: Kysely<Database>,
  name: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('certificates')
    .set({ renew_requested: 1, next_attempt_at: null, updated_at: now })
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function removeCertificate(db: Kysely<Database>, name: string): Promise<boolean> {
  const result = await db.deleteFrom('certificates').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function putAcmeChallenge(
  db: Kysely<Database>,
  token: string,
  keyAuthorization: string,
  expiresAt: number,
): Promise<void> {
  await db
    .insertInto('acme_challenges')
    .values({ token, key_authorization: keyAuthorization, expires_at: expiresAt })
    .onConflict((oc) =>
      oc.column('token').doUpdateSet({ key_authorization: keyAuthorization, expires_at: expiresAt }),
    )
    .execute();
}

export async function getAcmeChallenge(
  db: Kysely<Database>,
  token: string,
  now: number,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('acme_challenges')
    .select('key_authorization')
    .where('token', '=', token)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.key_authorization;
}

export async function deleteAcmeChallenge(db: Kysely<Database>, token: string, now: number): Promise<void> {
  await db
    .deleteFrom('acme_challenges')
    .where((eb) => eb.or([eb('token', '=', token), eb('expires_at', '<=', now)]))
    .execute();
}
