/** The edge's durable store: the Store contract, its SQLite backend, and secret hashing. */
export type {
  ApiKeyRecord,
  Clock,
  CreateTunnelInput,
  ListSessionsOptions,
  RandomBytes,
  SessionRecord,
  SessionStartInput,
  Store,
  TunnelKind,
  TunnelRecord,
} from './store.js';
export { openSqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { hashSecret, hashesEqual } from './secret-hash.js';
export { parseApiKeyPrefix } from './api-key-secret.js';
