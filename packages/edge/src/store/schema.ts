/**
 * Row types of the store's tables, as Kysely sees them after the latest migration. One
 * schema for every dialect: text ids, integer-millisecond timestamps, no native booleans,
 * dates or enums, so SQLite and PostgreSQL run the same queries.
 */
import type { ColumnType } from 'kysely';
import type { TunnelKind } from './store.js';

/**
 * Milliseconds since the epoch in a `bigint` column. Written as a number; read back as a
 * number from better-sqlite3 but as a string from node-postgres (which does not narrow
 * int8 to a JS number by default), so readers go through `millisToDate`.
 */
export type Millis = ColumnType<number | string | bigint, number, number>;
export type NullableMillis = ColumnType<number | string | bigint | null, number | null, number | null>;

/** 0 or 1 in an `integer` column (a check constraint keeps it so); no native booleans. */
export type Flag = 0 | 1;

export interface UsersTable {
  id: string;
  /** Unique, lower-case (normalized by the store). */
  name: string;
  /** Read as a plain number (drivers do not know the 0/1 constraint); written as a Flag. */
  is_admin: ColumnType<number, Flag, Flag>;
  created_at: Millis;
  disabled_at: NullableMillis;
}

export interface ApiKeysTable {
  id: string;
  prefix: string;
  /** sha256 hex of the whole secret string. */
  hash: string;
  label: string;
  created_at: Millis;
  last_used_at: NullableMillis;
  revoked_at: NullableMillis;
  /**
   * Nullable in the schema only because SQLite cannot add a NOT NULL foreign-key column
   * (migration 0002): the store always writes it and 0002 filled it for older keys.
   */
  user_id: string | null;
  /** Comma-separated scopes in canonical order (see api-key-scopes.ts). */
  scopes: string;
}

export interface TunnelsTable {
  name: string;
  /** A check constraint limits it to the two kinds. */
  kind: TunnelKind;
  owner_key_id: string | null;
  owner_user_id: string | null;
  resume_token_hash: string | null;
  created_at: Millis;
  last_active_at: Millis;
  /** JSON text of the stored access policy spec, or null (migration 0003). */
  policy: string | null;
  /** The session that last bound the name, or null (migration 0004). */
  session_id: string | null;
}

export interface DomainsTable {
  hostname: string;
  user_id: string;
  verification_token: string;
  tunnel_name: string | null;
  created_at: Millis;
  verified_at: NullableMillis;
}

export interface SessionsTable {
  id: string;
  key_id: string | null;
  agent: string;
  remote_address: string;
  connected_at: Millis;
  disconnected_at: NullableMillis;
  reason: string | null;
}

export interface AcmeAccountsTable {
  directory_url: string;
  email: string;
  /** The account's private key PEM, sealed with the edge secret (certs/key-seal.ts). */
  key_sealed: string;
  account_url: string | null;
  created_at: Millis;
}

export interface CertificatesTable {
  name: string;
  /** Comma-separated lower-case DNS names. */
  hosts: string;
  origin: string;
  cert_pem: string | null;
  /** The private key PEM, sealed with the edge secret; null until the first certificate. */
  key_sealed: string | null;
  not_before: NullableMillis;
  not_after: NullableMillis;
  issuer: string | null;
  last_error: string | null;
  last_attempt_at: NullableMillis;
  next_attempt_at: NullableMillis;
  failures: ColumnType<number, number | undefined, number>;
  renew_requested: ColumnType<number, Flag | undefined, Flag>;
  order_holder: string | null;
  order_until: NullableMillis;
  updated_at: Millis;
}

export interface AcmeChallengesTable {
  token: string;
  key_authorization: string;
  expires_at: Millis;
}

/** A `bigint` count (bytes); read back like `Millis`, as a string from node-postgres. */
export type BigCount = ColumnType<number | string | bigint, number, number>;

/** Migration 0006: one row per request or upgrade through a tunnel (request-records.ts). */
export interface RequestRecordsTable {
  id: string;
  tunnel: string;
  user_id: string | null;
  started_at: Millis;
  method: string;
  path: string;
  host: string;
  status: number;
  upgrade: ColumnType<number, Flag, Flag>;
  bytes_in: BigCount;
  bytes_out: BigCount;
  client_address: string;
  trace_id: string | null;
  error_code: string | null;
  edge_ms: number | null;
  tunnel_ms: number | null;
  origin_ms: number | null;
  total_ms: number;
  replay_of: string | null;
  /** JSON text of the flat header list; null when nothing was captured. */
  request_headers: string | null;
  request_body: Buffer | null;
  request_body_truncated: ColumnType<number, Flag | undefined, Flag>;
  response_headers: string | null;
  response_body: Buffer | null;
  response_body_truncated: ColumnType<number, Flag | undefined, Flag>;
}

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  tunnels: TunnelsTable;
  sessions: SessionsTable;
  domains: DomainsTable;
  acme_accounts: AcmeAccountsTable;
  certificates: CertificatesTable;
  acme_challenges: AcmeChallengesTable;
  request_records: RequestRecordsTable;
}
