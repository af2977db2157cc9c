/**
 * The limits of a head (OPEN's request head, HEAD's response head), as one definition: the
 * receiver refuses past them, the sender checks before sending, and the edge derives the
 * bounds of its own request parser from them, so whatever the edge accepts is representable.
 */

/** Field counts and sizes every version-1 peer accepts in one head. */
export const HEAD_LIMITS = {
  /** Header fields (name/value pairs). 1000 is what version-1 receivers have always taken. */
  maxFields: 1000,
  /** Bytes of header fields, each counted as its HTTP/1.1 line `name: value\r\n`. */
  maxBytes: 1_048_576 + 65_536,
} as const;

/**
 * Kept free below HEAD_LIMITS for the fields a hop adds to a head it forwards (the edge's
 * X-Forwarded-* and X-Request-Id, a tunnel policy's header edits): the edge's parser limits
 * may be set no higher than HEAD_LIMITS minus this.
 */
export const HEAD_RESERVE = {
  fields: 100,
  bytes: 65_536,
} as const;

/** Most characters of a reason phrase a HEAD may carry. */
export const MAX_STATUS_TEXT = 512;

/** `name: value\r\n`: how a field is counted against maxBytes. */
const FIELD_OVERHEAD = 4;

/** Bytes of a flat [name, value, ...] list as HTTP/1.1 lines (string length: heads are latin1). */
export function headFieldBytes(headers: readonly string[]): number {
  let bytes = 0;
  for (const item of headers) bytes += item.length;
  return bytes + (headers.length / 2) * FIELD_OVERHEAD;
}

/** Why a header list is over HEAD_LIMITS, or null when it fits. */
export function headLimitProblem(headers: readonly string[]): string | null {
  const fields = headers.length / 2;
  if (fields > HEAD_LIMITS.maxFields)
    return `${fields} header fields, more than the ${HEAD_LIMITS.maxFields} a head may carry`;
  const bytes = headFieldBytes(headers);
  if (bytes > HEAD_LIMITS.maxBytes)
    return `${bytes} bytes of header fields, more than the ${HEAD_LIMITS.maxBytes} a head may carry`;
  return null;
}

/**
 * The most a viewer's request head may hold at the edge: HEAD_LIMITS less HEAD_RESERVE. The
 * edge's settings for its parser (`limits.maxHeaderCount`, `limits.maxHeaderBytes`) are
 * bounded by these, so a head the edge accepts is representable in OPEN.
 */
export const VIEWER_HEAD_LIMITS = {
  maxFields: HEAD_LIMITS.maxFields - HEAD_RESERVE.fields,
  maxBytes: HEAD_LIMITS.maxBytes - HEAD_RESERVE.bytes,
} as const;
