/**
 * The edge's durable store: the Store contract, its SQLite backend, secret hashing, and the
 * input rules for user names, key scopes and custom domains that callers check up front.
 */
export type {
  AcmeAccountRecord,
  AddDomainInput,
  CertificateFailureInput,
  CertificateRecord,
  SaveAcmeAccountInput,
  SaveCertificateInput,
  StoredCertificateOrigin,
  ApiKeyRecord,
  ApiKeyScope,
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
  TunnelKind,
  TunnelRecord,
  UserRecord,
  VerifiedApiKey,
} from './store.js';
export { openSqliteStore, SqliteStore } from './sqlite-store.js';
export { RequestInsertThread } from './request-insert-thread.js';
export { openPostgresStore, describeDatabaseUrl } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { openConfiguredStore, sqliteFileOf } from './open-store.js';
export { SqliteFileWatch } from './sqlite-file-watch.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export type { QueryTimer } from './query-timing.js';
export { hashSecret, hashesEqual } from './secret-hash.js';
export { parseApiKeyPrefix } from './api-key-secret.js';
export {
  API_KEY_SCOPES,
  DEFAULT_API_KEY_SCOPES,
  normalizeApiKeyScopes,
  parseApiKeyScopes,
  scopeAllows,
} from './api-key-scopes.js';
export { DEFAULT_USER_ID, DEFAULT_USER_NAME, normalizeUserName, tryNormalizeUserName } from './user-name.js';
export { MAX_KEY_LABEL_LENGTH, printable, validateKeyLabel } from './printable-text.js';
export {
  DOMAIN_VERIFICATION_LABEL,
  domainVerificationRecord,
  lookupDomainHostname,
  normalizeDomainHostname,
} from './custom-domain.js';
export type { DomainVerificationRecord } from './custom-domain.js';
export { nameTakenError } from './name-taken.js';
