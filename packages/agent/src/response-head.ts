/**
 * The HEAD the agent sends for an origin's response, made safe to send with the protocol's
 * one rule (http-rules.ts): a status that is not a 3-digit HTTP status is refused with
 * TUN_ERR_HEAD_INVALID, and a reason phrase that is not valid (tab, space, visible ASCII) is
 * replaced by the standard phrase (or dropped), since the edge writes it into the viewer's
 * status line.
 */

import { isValidStatus, reasonPhrase, TunnelError, type ResponseHead } from '@burrow/protocol';
import { originAddress } from './forward-context.js';

/**
 * Throws TUN_ERR_HEAD_INVALID, naming `origin`, unless `status` is a 3-digit HTTP status.
 * Takes the URL, not its address: the address string is only built for the error.
 */
export function checkOriginStatus(status: number, origin: URL): void {
  if (isValidStatus(status)) return;
  throw new TunnelError(
    'TUN_ERR_HEAD_INVALID',
    `${originAddress(origin)} answered with status ${status}, which is not a 3-digit HTTP status (100-999)`,
  );
}

/** The response head for HEAD; throws TUN_ERR_HEAD_INVALID for an invalid status. */
export function originResponseHead(
  status: number,
  phrase: string | undefined,
  headers: string[],
  origin: URL,
): ResponseHead {
  checkOriginStatus(status, origin);
  return { status, statusText: reasonPhrase(status, phrase ?? ''), headers };
}
