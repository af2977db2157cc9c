/**
 * Everything that wants to know about finished requests (history writer, statistics,
 * metrics, access log, live feed) implements this one interface. `record` runs on the data
 * path once per request, after the viewer's response closed: it must not block, throw or
 * wait; anything slow is queued and done later by the observer itself.
 */

import type { RequestRecord } from '../store/request-records.js';

export type { RequestRecord, RequestTiming, RequestCapture } from '../store/request-records.js';

export interface RequestObserver {
  record(record: RequestRecord): void;
  /** An upgrade's 101 reached the viewer (its record follows when it closes): open WebSockets are upgraded − recorded. */
  upgraded?(tunnel: string): void;
}

/** One observer over many; a throwing observer is reported and never stops the others. */
export function fanOut(
  observers: readonly RequestObserver[],
  onError: (err: unknown) => void,
): RequestObserver | null {
  if (observers.length === 0) return null;
  if (observers.length === 1) {
    const only = observers[0] as RequestObserver;
    return {
      record(record) {
        try {
          only.record(record);
        } catch (err) {
          onError(err);
        }
      },
      upgraded(tunnel) {
        try {
          only.upgraded?.(tunnel);
        } catch (err) {
          onError(err);
        }
      },
    };
  }
  return {
    record(record) {
      for (const observer of observers) {
        try {
          observer.record(record);
        } catch (err) {
          onError(err);
        }
      }
    },
    upgraded(tunnel) {
      for (const observer of observers) {
        try {
          observer.upgraded?.(tunnel);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
