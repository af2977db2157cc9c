/**
 * Recognises constraint violations from either driver by their error codes (better-sqlite3
 * `SQLITE_CONSTRAINT_*`, PostgreSQL SQLSTATE class 23), so store code can branch on what
 * was violated without reading message text.
 */

export type ConstraintViolation = 'unique' | 'foreign-key' | 'check' | 'not-null';

const BY_CODE: ReadonlyMap<string, ConstraintViolation> = new Map([
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'unique'],
  ['SQLITE_CONSTRAINT_UNIQUE', 'unique'],
  ['SQLITE_CONSTRAINT_FOREIGNKEY', 'foreign-key'],
  ['SQLITE_CONSTRAINT_CHECK', 'check'],
  ['SQLITE_CONSTRAINT_NOTNULL', 'not-null'],
  ['23505', 'unique'],
  ['23503', 'foreign-key'],
  ['23514', 'check'],
  ['23502', 'not-null'],
]);

/** Which constraint `err` reports violating, or null if it is not a constraint violation. */
export function constraintViolationOf(err: unknown): ConstraintViolation | null {
  if (typeof err !== 'object' || err === null || !('code' in err)) return null;
  const { code } = err;
  return typeof code === 'string' ? (BY_CODE.get(code) ?? null) : null;
}
