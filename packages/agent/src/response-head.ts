/**
 * The HEAD the agent sends for an origin's response, made safe to send: a status that is
 * not a 3-digit HTTP status is refused with TUN_ERR_HEAD_INVALID, and a reason phrase with
 * anything but printable ASCII is replaced by the standard phrase (or dropped), since the
 * edge writes it into the viewer's status line.
 */

import { STATUS_CODES } from 'node:http';
import { MAX_STATUS_TEXT, TunnelError, type ResponseHead } from '@burrow/protocol';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** The reason phrase to send: the origin's if printable ASCII, else the standard one or none. */
export function safeReasonPhrase(status: number, phrase: string): string {
  if (phrase.length <= MAX_STATUS_TEXT && PRINTABLE_ASCII.test(phrase)) return phrase;
  return STATUS_CODES[status] ?? '';
}

/** Throws TUN_ERR_HEAD_INVALID, naming `origin`, unless `status` is a 3-digit HTTP status. */
export function checkOriginStatus(status: number, origin: string): void {
  if (Number.isInteger(status) && status >= 100 && status <= 999) return;
  throw new TunnelError(
    'TUN_ERR_HEAD_INVALID',
    `${origin} answered with status ${status}, which is not a 3-digit HTTP status (100-999)`,
  );
}

/** The response head for HEAD; throws TUN_ERR_HEAD_INVALID for an invalid status. */
export function originResponseHead(
  status: number,
  phrase: string | undefined,
  headers: string[],
  origin: string,
): ResponseHead {
  checkOriginStatus(status, origin);
  return { status, statusText: safeReasonPhrase(status, phrase ?? ''), headers };
}
