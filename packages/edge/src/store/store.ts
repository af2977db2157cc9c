/**
 * The Store contract: the edge's durable data (API keys, tunnel names, session history)
 * behind one interface, so SQLite and PostgreSQL backends are interchangeable.
 *
 * Every method is safe to call concurrently; each call is one statement or one
 * transaction. Times are `Date`s in and out; backends keep integer milliseconds since the
 * epoch, taken from the injected `Clock`. Failures are `TunnelError`s (never raw driver
 * errors); "not there" answers are `null`, `undefined` or `false` as each method says.
 */

/** Time source, injected so tests can pin and advance it. */
export interface Clock {
  /** Milliseconds since the epoch; the default is `Date.now`. */
  now(): number;
}

/**
 * Randomness source with the shape of `crypto.randomBytes` (the default): returns `size`
 * fresh random bytes. Injected so tests can make key generation reproducible.
 */
export type RandomBytes = (size: number) => Uint8Array;

export type TunnelKind = 'temporary' | 'named';

/** An API key as the edge shows it: never the secret, never its hash. */
export interface ApiKeyRecord {
  /** Stable identifier, `key_` followed by 16 base62 characters. */
  id: string;
  /** The public part of the secret (8 base62 characters), unique; used for lookup and display. */
  prefix: string;
  label: string;
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
  /** sha256 hex (see `hashSecret`) of the token that lets a reconnecting agent reclaim the name. */
  resumeTokenHash: string | null;
  createdAt: Date;
  lastActiveAt: Date;
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
  ownerKeyId: string | null;
  resumeTokenHash: string | null;
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
}

export interface Store {
  /** Releases the database. Idempotent; any other call afterwards fails with TUN_ERR_INTERNAL. */
  close(): Promise<void>;

  /**
   * Makes a new key. The secret (`bk_<prefix>_<43 base62 chars>`) is returned once and only
   * its sha256 hash is stored, so it cannot be shown again.
   */
  createApiKey(input: { label: string }): Promise<{ record: ApiKeyRecord; secret: string }>;
  /** All keys, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /**
   * Revokes by id or prefix; null if neither matches. Revoking twice keeps the first
   * `revokedAt`.
   */
  revokeApiKey(idOrPrefix: string): Promise<ApiKeyRecord | null>;
  /**
   * The key a presented secret belongs to, or null when the secret is malformed, unknown,
   * wrong or revoked (never throws for bad input). Records `lastUsedAt` on success.
   */
  verifyApiKey(secret: string): Promise<ApiKeyRecord | null>;

  getTunnel(name: string): Promise<TunnelRecord | undefined>;
  /**
   * Claims a name; false (no throw) when the name already exists, whatever its kind.
   * Throws TUN_ERR_NOT_FOUND when `ownerKeyId` names no key.
   */
  createTunnel(rec: CreateTunnelInput): Promise<boolean>;
  /** Sets or clears the resume token hash; TUN_ERR_TUNNEL_NOT_FOUND if the name is unknown. */
  setTunnelResumeToken(name: string, hash: string | null): Promise<void>;
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
}
