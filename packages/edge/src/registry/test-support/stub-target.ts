import type { MuxStream } from '@burrow/protocol';
import type { TunnelTarget } from '../registry.js';

/** A live, accepting target that never opens streams: for tests of who holds a name. */
export function stubTarget(
  sessionId: string,
  options: { anonymous?: boolean; userId?: string | null } = {},
): TunnelTarget {
  return {
    sessionId,
    accepting: true,
    anonymous: options.anonymous ?? false,
    userId: options.userId ?? null,
    openStream: (): MuxStream => {
      throw new Error('a stub target opens no streams');
    },
    displaced: () => undefined,
  };
}
