/**
 * The Store contract: the edge's durable data (users, API keys, tunnel names, custom
 * domains, session history, ACME account and certificates) behind one interface, so SQLite and PostgreSQL backends are
 * interchangeable.
 *
 * Every method is safe to call concurrently; each call is one statement or one
 * transaction. Times are `Date`s in and out; backends keep integer milliseconds since the
 * epoch, taken from the injected `Clock`. Failures are `TunnelError`s (never raw driver
 * errors); "not there" answers are `null`, `undefined` or `false` as each method says.
 */

import type { CertificateStore } from './certificate-records.js';
import type { RequestHistoryStore } from './request-records.js';

/** Time source, injected so tests can pin and advance it (defined once, in the protocol). */
export type { Clock } from '@burrow/protocol';

/** Randomness source with the shape of `crypto.randomBytes`, injected so tests can make key generation reproducible. */
export type { RandomBytes } from '../random-text.js';

export type {
  AcmeAccountRecord,
  CertificateFailureInput,
  CertificateRecord,
  CertificateStore,
  SaveAcmeAccountInput,
  SaveCertificateInput,
  StoredCertificateOrigin,
} from './certificate-records.js';
export type TunnelKind = 'temporary' | 'named';

/**
 * What a key may do: `agent` binds tunnels, `api` manages its user's own resources, `admin`
 * does everything (and implies the other two; see `scopeAllows`). Only admin users' keys
 * may carry `admin`.
 */
export type ApiKeyScope = 'agent' | 'api' | 'admin';

/** An account. Users are disabled, never deleted, so history keeps its owner. */
export interface UserRecord {
  /** Stable identifier, `usr_` followed by 16 base62 characters (`usr_default` for the default user). */
  id: string;
  /** Unique display name, lower-case (see `normalizeUserName`); shown in errors to other users. */
  name: string;
  /** Admin users may hold keys with the `admin` scope. */
  admin: boolean;
  createdAt: Date;
  /** When it was disabled, or null while active. A disabled user's keys are refused. */
  disabledAt: Date | null;
}

/** An API key as the edge shows it: never the secret, never its hash. */
export interface ApiKeyRecord {
  /** Stable identifier, `key_` followed by 16 base62 characters. */
  id: string;
  /** The public part of the secret (8 base62 characters), unique; used for lookup and display. */
  prefix: string;
  label: string;
  /** The user the key acts for; tunnels it creates belong to this user. */
  userId: string;
  /** Non-empty, without duplicates, in the order `agent`, `api`, `admin`. */
  scopes: ApiKeyScope[];
  createdAt: Date;
  /** Last successful `verifyApiKey`, or null if never used. */
  lastUsedAt: Date | null;
  /** When it was revoked, or null while it is valid. Revoked keys are kept for history. */
  revokedAt: Date | null;
}

export interface TunnelRecord {
  /** The DNS label the tunnel is served under; unique across kinds. */
  name: string;
  /** `temporary` names are reaped by the janitor when idle; `named` ones are kept until deleted. */
  kind: TunnelKind;
  ownerKeyId: string | null;
  /**
   * The user the name belongs to: the owner key's user when a key created it, the
   * reserving user for `reserveName`; null for anonymous temporary tunnels. Any key of
   * this user may bind the name.
   */
  ownerUserId: string | null;
  /** That user's display name (for "reserved by …" errors), or null when there is no owner. */
  ownerUserName: string | null;
  /** sha256 hex (see `hashSecret`) of the token that lets a reconnecting agent reclaim the name. */
  resumeTokenHash: string | null;
  createdAt: Date;
  lastActiveAt: Date;
  /**
   * The access policy spec the owner stored for this name (see policy/policy-spec.ts), or
   * null. The edge enforces it whenever the name is bound; agent flags override it field by
   * field. The store keeps it as given: callers validate it first (`parsePolicySpec`).
   */
  policy: Record<string, unknown> | null;
}

/** A key that `verifyApiKey` accepted, with its (active) user. */
export interface VerifiedApiKey extends ApiKeyRecord {
  /** Always active here (`disabledAt` null): keys of disabled users do not verify. */
  user: UserRecord;
}

/**
 * A custom hostname a user routes to one of their tunnels. It routes only once verified:
 * the user publishes `verificationToken` as a TXT record at `_burrow.<hostname>` (see
 * `domainVerificationRecord`) and the edge's resolver calls `markDomainVerified`.
 */
export interface DomainRecord {
  /** Lower-case ASCII (punycode for international names), no trailing dot; unique. */
  hostname: string;
  userId: string;
  /** Random, not secret (it is published in DNS): 32 base62 characters. */
  verificationToken: string;
  /** The named tunnel the hostname routes to, or null while it routes nowhere. */
  tunnelName: string | null;
  createdAt: Date;
  /** When the TXT record was first seen, or null while unverified. */
  verifiedAt: Date | null;
}

export interface SessionRecord {
  id: string;
  keyId: string | null;
  /** Agent name/version string as the agent announced it. */
  agent: string;
  remoteAddress: string;
  connectedAt: Date;
  disconnectedAt: Date | null;
  reason: string | null;
}

export interface CreateTunnelInput {
  name: string;
  kind: TunnelKind;
  /** The tunnel's owner user is this key's user (null owner when null). */
  ownerKeyId: string | null;
  resumeTokenHash: string | null;
  /** For a `named` tunnel: the owner user's limit, as in `ReserveNameInput`. */
  maxNamedPerUser?: number;
}

export interface CreateUserInput {
  /** Normalized with `normalizeUserName` (trimmed, lower-cased) before it is stored. */
  name: string;
  /** Default false. */
  admin?: boolean;
}

export interface CreateApiKeyInput {
  label: string;
  /** Default `DEFAULT_USER_ID`, the admin user migration 0002 created for pre-existing keys. */
  userId?: string;
  /** Default `['agent', 'api']`. Duplicates are dropped and the order made canonical. */
  scopes?: readonly ApiKeyScope[];
}

export interface ListApiKeysOptions {
  /** Only this user's keys. */
  userId?: string;
}

export interface ReserveNameInput {
  /** A tunnel name the caller has already validated (the gateway's `validateName`). */
  name: string;
  userId: string;
  /**
   * Refuse with TUN_ERR_NAME_LIMIT when the user already has this many named tunnels (a
   * name already theirs is not a new one). Checked and written in one transaction under
   * the user's row lock, so racing reservations cannot pass it. Absent: no limit (operators).
   */
  maxNamedPerUser?: number;
}

export interface AddDomainInput {
  /** Normalized with `normalizeDomainHostname`; TUN_ERR_NAME_INVALID when it is not a hostname. */
  hostname: string;
  userId: string;
  /** A named tunnel of the same user to route to; default none. */
  tunnelName?: string | null;
}

export interface ListDomainsOptions {
  /** Only this user's domains. */
  userId?: string;
  /** Only verified (true) or only unverified (false) domains. */
  verified?: boolean;
}

export interface SessionStartInput {
  id: string;
  keyId: string | null;
  agent: string;
  remoteAddress: string;
}

export interface ListSessionsOptions {
  /** Newest sessions first, at most this many; default 100, clamped to 1..1000. */
  limit?: number;
  /** Only sessions authenticated with this key. */
  keyId?: string;
  /** Only sessions authenticated with a key of this user. */
  userId?: string;
}

/**
 * Certificates, the ACME account and challenge tokens: see certificate-records.ts. Request
 * history: see request-records.ts.
 */
export interface Store extends CertificateStore, RequestHistoryStore {
  /** Releases the database. Idempotent; any other call afterwards fails with TUN_ERR_INTERNAL. */
  close(): Promise<void>;

  /**
   * Makes a user. Throws TUN_ERR_NAME_INVALID when the name is not valid (see
   * `normalizeUserName`) and TUN_ERR_NAME_TAKEN when another user has it.
   */
  createUser(input: CreateUserInput): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | undefined>;
  /** By name, normalized first; undefined (no throw) for unknown or malformed names. */
  getUserByName(name: string): Promise<UserRecord | undefined>;
  /** All users, disabled ones included, oldest first. */
  listUsers(): Promise<UserRecord[]>;
  /**
   * Disables a user: from now on `verifyApiKey` refuses their keys and `isUserActive` is
   * false (closing their live sessions is the gateway's job). Disabling twice keeps the
   * first `disabledAt`. Null when no user has this id.
   */
  disableUser(id: string): Promise<UserRecord | null>;
  /** Clears `disabledAt`; the user's unrevoked keys work again. Null when no user has this id. */
  enableUser(id: string): Promise<UserRecord | null>;
  /** True when the user exists and is not disabled. */
  isUserActive(id: string): Promise<boolean>;

  /**
   * Makes a new key for a user (default: the default user) with scopes (default
   * `agent,api`). The secret (`bk_<prefix>_<43 base62 chars>`) is returned once and only its
   * sha256 hash is stored, so it cannot be shown again. Throws TUN_ERR_NOT_FOUND for an
   * unknown user, TUN_ERR_NAME_INVALID for an empty or unknown scope, TUN_ERR_UNAUTHORIZED
   * for the `admin` scope on a user who is not an admin. A disabled user may be given keys;
   * they work once the user is enabled.
   */
  createApiKey(input: CreateApiKeyInput): Promise<{ record: ApiKeyRecord; secret: string }>;
  /** All keys (or one user's), revoked ones included, oldest first. */
  listApiKeys(opts?: ListApiKeysOptions): Promise<ApiKeyRecord[]>;
  /**
   * Revokes by id or prefix; null if neither matches. Revoking twice keeps the first
   * `revokedAt`.
   */
  revokeApiKey(idOrPrefix: string): Promise<ApiKeyRecord | null>;
  /**
   * The key a presented secret belongs to, with its user, or null when the secret is
   * malformed, unknown, wrong or revoked, or its user is disabled (never throws for bad
   * input). Records `lastUsedAt` on success. A disable or revoke racing this call wins.
   */
  verifyApiKey(secret: string): Promise<VerifiedApiKey | null>;

  getTunnel(name: string): Promise<TunnelRecord | undefined>;
  /**
   * Claims a name; false (no throw) when the name already exists, whatever its kind.
   * Throws TUN_ERR_NOT_FOUND when `ownerKeyId` names no key.
   */
  createTunnel(rec: CreateTunnelInput): Promise<boolean>;
  /**
   * Sets or clears the resume token hash and sets `lastActiveAt` to now (a name is handed
   * over with a fresh token), and returns the row as it is afterwards, so a caller binding
   * the name sees a policy stored while it was deciding; TUN_ERR_TUNNEL_NOT_FOUND if the
   * name is unknown. `sessionId`, when given, records the session now holding the name.
   */
  setTunnelResumeToken(name: string, hash: string | null, sessionId?: string): Promise<TunnelRecord>;
  /**
   * Names whose holding session was recorded as started and never as ended: after a crash,
   * the tunnels that were live and whose agents will reconnect. Sorted by name.
   */
  listTunnelsOfOpenSessions(): Promise<string[]>;
  /**
   * Records that session `sessionId` no longer holds `name` while it stays open (UNBIND, or
   * a BIND that failed after its holder was recorded): the holder becomes `successor`, by
   * default none, so a crash does not bring the name back. Does nothing unless `sessionId`
   * is the recorded holder, so a later holder is never forgotten. Unknown names are ignored.
   */
  releaseTunnelHolder(name: string, sessionId: string, successor?: string | null): Promise<void>;
  /**
   * Stores (or with null clears) the access policy of a tunnel; the updated record, or null
   * when no tunnel has this name.
   */
  setTunnelPolicy(name: string, policy: Record<string, unknown> | null): Promise<TunnelRecord | null>;
  /**
   * Sets `lastActiveAt` to now. Unknown names are ignored: the janitor may have reaped a
   * temporary tunnel, and a late heartbeat must not fail the session.
   */
  touchTunnel(name: string): Promise<void>;
  /** Deletes a tunnel of any kind; false if it did not exist. */
  deleteTunnel(name: string): Promise<boolean>;
  /** Tunnels with `lastActiveAt >= since`, most recently active first. */
  listTunnelsActiveSince(since: Date): Promise<TunnelRecord[]>;
  /** Tunnels owned by a key, by name. */
  listTunnelsOwnedBy(keyId: string): Promise<TunnelRecord[]>;
  /** Tunnels owned by a user (through any of their keys, or reserved), by name. */
  listTunnelsOwnedByUser(userId: string): Promise<TunnelRecord[]>;
  /**
   * Reserves a name for a user: afterwards only that user's keys may bind it. Idempotent
   * for the same user, and turns that user's own temporary tunnel of this name into a named
   * one. Throws TUN_ERR_NAME_TAKEN (message from `nameTakenError`, naming the owning user)
   * when the name belongs to someone else or to no one, TUN_ERR_NOT_FOUND for an unknown user.
   */
  reserveName(input: ReserveNameInput): Promise<TunnelRecord>;
  /**
   * Gives a user's name back: deletes the tunnel, whatever its kind, when `userId` owns
   * it. False when there is no such tunnel or someone else owns it. Domains routed to it
   * stop routing (their `tunnelName` becomes null). Admins use `deleteTunnel`.
   */
  releaseName(input: ReserveNameInput): Promise<boolean>;
  /**
   * Janitor: deletes temporary tunnels with `lastActiveAt < before` in one statement and
   * returns their names. Named tunnels are never deleted here.
   */
  deleteTemporaryTunnelsIdleSince(before: Date): Promise<string[]>;

  /**
   * Records a session that just connected. Throws TUN_ERR_NOT_FOUND when `keyId` names no
   * key, TUN_ERR_INTERNAL when the id was already recorded.
   */
  recordSessionStart(rec: SessionStartInput): Promise<void>;
  /** Marks a session ended now. The first end wins; unknown ids are ignored. */
  recordSessionEnd(id: string, reason: string): Promise<void>;
  /**
   * At boot: sessions left open by a previous process (crash, kill) get ended now with
   * `reason`. Returns how many.
   */
  closeDanglingSessions(reason: string): Promise<number>;
  listSessions(opts?: ListSessionsOptions): Promise<SessionRecord[]>;

  /**
   * Adds an unverified custom domain with a fresh verification token. Throws
   * TUN_ERR_NAME_INVALID for a malformed hostname, TUN_ERR_NAME_TAKEN when it is already
   * added (by anyone), TUN_ERR_NOT_FOUND for an unknown user or tunnel, and
   * TUN_ERR_UNAUTHORIZED when the tunnel is not a named tunnel of the same user.
   */
  addDomain(input: AddDomainInput): Promise<DomainRecord>;
  /** By hostname (lower-cased, trailing dot dropped); undefined, no throw, for anything unknown. */
  getDomain(hostname: string): Promise<DomainRecord | undefined>;
  /** Domains by hostname, optionally one user's and/or only (un)verified ones. */
  listDomains(opts?: ListDomainsOptions): Promise<DomainRecord[]>;
  /**
   * Records that the TXT record was found: sets `verifiedAt` to now. Verifying again keeps
   * the first time. Null when the hostname is unknown.
   */
  markDomainVerified(hostname: string): Promise<DomainRecord | null>;
  /**
   * Routes a domain to a named tunnel of the domain's user, or to nothing (null). Null
   * when the hostname is unknown; TUN_ERR_NOT_FOUND / TUN_ERR_UNAUTHORIZED as for `addDomain`.
   */
  setDomainTunnel(hostname: string, tunnelName: string | null): Promise<DomainRecord | null>;
  /** Deletes a domain (only if `userId` owns it, when given); false when nothing was deleted. */
  removeDomain(hostname: string, opts?: { userId?: string }): Promise<boolean>;
}
