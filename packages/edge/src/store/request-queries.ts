/**
 * The request-history half of KyselyStore (see request-records.ts): batched inserts, the
 * API's filtered pages (keyset, newest first) and single reads. Pruning is in
 * request-prune.ts. Portable SQL only, as in kysely-store.ts.
 */
import type { Expression, ExpressionBuilder, Insertable, Kysely, Selectable, SqlBool } from 'kysely';
import { TunnelError } from '@burrow/protocol';
import { decodeRequestCursor, encodeRequestCursor, type RequestCursor } from './request-cursor.js';
import { REQUEST_SUMMARY_COLUMNS } from './request-row.js';
import type { RequestCapture, RequestPage, RequestQuery, RequestRecord } from './request-records.js';
import { millisToDate } from './row-mapping.js';
import type { Database, RequestRecordsTable } from './schema.js';

/**
 * Rows per INSERT statement. 25 parameters a row: 500 rows stay far under SQLite's 32,766
 * (and PostgreSQL's 65,535) bound parameters, and keep one synchronous better-sqlite3
 * statement short enough not to stall the event loop.
 */
export const REQUEST_INSERT_CHUNK = 500;

/** The page size bounds of `RequestQuery.limit`. */
export const MAX_REQUEST_PAGE = 200;

type SummaryRow = Pick<Selectable<RequestRecordsTable>, (typeof REQUEST_SUMMARY_COLUMNS)[number]>;

function toRow(record: RequestRecord): Insertable<RequestRecordsTable> {
  const capture = record.capture;
  return {
    id: record.id,
    tunnel: record.tunnel,
    user_id: record.userId,
    started_at: record.startedAt.getTime(),
    method: record.method,
    path: record.path,
    host: record.host,
    status: record.status,
    upgrade: record.upgrade ? 1 : 0,
    bytes_in: record.bytesIn,
    bytes_out: record.bytesOut,
    client_address: record.clientAddress,
    trace_id: record.traceId,
    error_code: record.errorCode,
    edge_ms: record.timing.edgeMs,
    tunnel_ms: record.timing.tunnelMs,
    origin_ms: record.timing.originMs,
    total_ms: record.timing.totalMs,
    replay_of: record.replayOf,
    request_headers: capture === null ? null : JSON.stringify(capture.requestHeaders),
    request_body: capture?.requestBody ?? null,
    request_body_truncated: capture?.requestBodyTruncated === true ? 1 : 0,
    response_headers: capture === null ? null : JSON.stringify(capture.responseHeaders),
    response_body: capture?.responseBody ?? null,
    response_body_truncated: capture?.responseBodyTruncated === true ? 1 : 0,
  };
}

function toRecord(row: SummaryRow, capture: RequestCapture | null): RequestRecord {
  return {
    id: row.id,
    tunnel: row.tunnel,
    userId: row.user_id,
    startedAt: millisToDate(row.started_at),
    method: row.method,
    path: row.path,
    host: row.host,
    status: Number(row.status),
    upgrade: Number(row.upgrade) === 1,
    bytesIn: Number(row.bytes_in),
    bytesOut: Number(row.bytes_out),
    clientAddress: row.client_address,
    traceId: row.trace_id,
    errorCode: row.error_code,
    timing: {
      edgeMs: row.edge_ms === null ? null : Number(row.edge_ms),
      tunnelMs: row.tunnel_ms === null ? null : Number(row.tunnel_ms),
      originMs: row.origin_ms === null ? null : Number(row.origin_ms),
      totalMs: Number(row.total_ms),
    },
    replayOf: row.replay_of,
    capture,
  };
}

function headerList(json: string, id: string): string[] {
  const parsed: unknown = JSON.parse(json);
  // Only this store writes the column; anything else means the row was edited by hand.
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new TunnelError('TUN_ERR_INTERNAL', `corrupt captured headers in request record ${id}`);
  }
  return parsed;
}

function toCapture(row: Selectable<RequestRecordsTable>): RequestCapture | null {
  if (row.request_headers === null) return null;
  return {
    requestHeaders: headerList(row.request_headers, row.id),
    requestBody: row.request_body,
    requestBodyTruncated: Number(row.request_body_truncated) === 1,
    responseHeaders: headerList(row.response_headers ?? '[]', row.id),
    responseBody: row.response_body,
    responseBodyTruncated: Number(row.response_body_truncated) === 1,
  };
}

export async function insertRequestRecords(
  db: Kysely<Database>,
  records: readonly RequestRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map(toRow);
  const insert = async (trx: Kysely<Database>, chunk: Insertable<RequestRecordsTable>[]) => {
    await trx
      .insertInto('request_records')
      .values(chunk)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  };
  if (rows.length <= REQUEST_INSERT_CHUNK) return insert(db, rows);
  // Several statements: one transaction, so a batch is stored whole or not at all.
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < rows.length; start += REQUEST_INSERT_CHUNK) {
      await insert(trx, rows.slice(start, start + REQUEST_INSERT_CHUNK));
    }
  });
}

function badField(field: string, requirement: string): TunnelError {
  return new TunnelError('TUN_ERR_BAD_REQUEST', `${field} must be ${requirement}`);
}

/**
 * Records after `at` in page order (`started_at desc, id desc`: older, or as old with a
 * smaller id), `at` itself too when `inclusive`. The keyset of pages and of the count prune.
 */
export function inPageOrderAfter(
  eb: ExpressionBuilder<Database, 'request_records'>,
  at: RequestCursor,
  options: { inclusive?: boolean } = {},
): Expression<SqlBool> {
  return eb.or([
    eb('started_at', '<', at.startedAtMs),
    eb.and([eb('started_at', '=', at.startedAtMs), eb('id', options.inclusive === true ? '<=' : '<', at.id)]),
  ]);
}

export async function listRequestRecords(db: Kysely<Database>, query: RequestQuery): Promise<RequestPage> {
  const { limit, statusClass } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REQUEST_PAGE) {
    throw badField('limit', `an integer from 1 to ${MAX_REQUEST_PAGE}`);
  }
  if (statusClass !== undefined && !(Number.isInteger(statusClass) && statusClass >= 0 && statusClass <= 5)) {
    throw badField('statusClass', 'an integer from 0 to 5');
  }
  // Decoded before any SQL runs, so a bad cursor costs no query.
  const after = query.cursor === undefined ? null : decodeRequestCursor(query.cursor);

  let select = db
    .selectFrom('request_records')
    .select(REQUEST_SUMMARY_COLUMNS)
    .where('tunnel', '=', query.tunnel);
  if (query.userId !== undefined) {
    select =
      query.userId === null
        ? select.where('user_id', 'is', null)
        : select.where('user_id', '=', query.userId);
  }
  if (statusClass === 0) select = select.where('status', '=', 0);
  else if (statusClass !== undefined) {
    select = select.where('status', '>=', statusClass * 100).where('status', '<', statusClass * 100 + 100);
  }
  if (query.method !== undefined) select = select.where('method', '=', query.method);
  if (query.pathPrefix !== undefined && query.pathPrefix !== '') {
    // An exact prefix test, not LIKE or a range: SQLite's LIKE ignores ASCII case and
    // PostgreSQL orders text by the database's locale, so neither means the same on both.
    // Both count characters (code points), as the spread does.
    const prefix = query.pathPrefix;
    const chars = [...prefix].length;
    select = select.where((eb) => eb(eb.fn('substr', ['path', eb.val(1), eb.val(chars)]), '=', prefix));
  }
  if (query.errorCode !== undefined) select = select.where('error_code', '=', query.errorCode);
  if (query.since !== undefined) select = select.where('started_at', '>=', query.since.getTime());
  if (query.until !== undefined) select = select.where('started_at', '<', query.until.getTime());
  if (after !== null) select = select.where((eb) => inPageOrderAfter(eb, after));
  // One row more than asked says whether another page follows.
  const rows = await select
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit).map((row) => toRecord(row, null));
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last !== undefined
      ? encodeRequestCursor({ startedAtMs: last.startedAt.getTime(), id: last.id })
      : null;
  return { records: page, nextCursor };
}

export async function getRequestRecord(db: Kysely<Database>, id: string): Promise<RequestRecord | null> {
  const row = await db.selectFrom('request_records').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toRecord(row, toCapture(row));
}
