/**
 * Request ids: UUIDs version 7 (RFC 9562), the millisecond time first, then 74 random bits.
 * They are what the viewer, the origin and the history see (`X-Request-Id`), and the history's
 * primary key: time-ordered ids land at the end of the store's id index instead of at random
 * places in it, which is most of what a random UUID costs an insert.
 */

import { randomHex } from '../observe/trace-context.js';

export function newRequestId(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, '0').slice(-12);
  const random = randomHex(10);
  // The variant's two high bits are 10: one of 8, 9, a, b.
  const variant = ((parseInt(random[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(0, 3)}-${variant}${random.slice(4, 7)}-${random.slice(7, 19)}`;
}
