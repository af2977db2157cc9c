/**
 * The request history's page cursor: base64url of `<startedAt ms>:<id>`, the last record of
 * a page. Opaque to clients; keyset pagination resumes strictly after it (newest first), so
 * records arriving meanwhile never shift a page and equal timestamps are ordered by id.
 */
import { TunnelError } from '@burrow/protocol';

export interface RequestCursor {
  startedAtMs: number;
  id: string;
}

/** Longer than any cursor this store makes (a 2 KiB id would already be absurd). */
const MAX_CURSOR_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// Ids are visible ASCII (the edge's are UUIDs): a NUL would reach PostgreSQL as an encoding error.
const CURSOR_TEXT = /^(\d{1,16}):([\x21-\x7e]{1,200})$/;

export function encodeRequestCursor(cursor: RequestCursor): string {
  return Buffer.from(`${cursor.startedAtMs}:${cursor.id}`, 'utf8').toString('base64url');
}

function badCursor(): TunnelError {
  return new TunnelError(
    'TUN_ERR_BAD_REQUEST',
    'cursor is not one this edge gave out: pass nextCursor from the previous page unchanged, or leave it out for the first page',
  );
}

/** Throws TUN_ERR_BAD_REQUEST naming `cursor` for anything `encodeRequestCursor` did not make. */
export function decodeRequestCursor(text: string): RequestCursor {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !BASE64URL.test(text)) throw badCursor();
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  // Re-encoding must give the same text: rejects padding tricks and invalid UTF-8.
  if (Buffer.from(decoded, 'utf8').toString('base64url') !== text) throw badCursor();
  const match = CURSOR_TEXT.exec(decoded);
  const startedAtMs = Number(match?.[1]);
  if (match === null || !Number.isSafeInteger(startedAtMs)) throw badCursor();
  return { startedAtMs, id: match[2]! };
}
