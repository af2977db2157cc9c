/**
 * Which live agent session serves which tunnel name right now, and which names are
 * briefly offline because their agent is reconnecting. Requests for such a name wait
 * (up to the grace period) instead of failing.
 */

import type { MuxStream } from '@burrow/protocol';

/** The part of an agent session that ingress needs: open a stream to it. */
export interface TunnelTarget {
  readonly sessionId: string;
  /** False once the session is going away: new requests must not be sent to it. */
  readonly accepting: boolean;
  /** True when the session that bound the name used no API key (decides the phishing warning). */
  readonly anonymous: boolean;
  /** The user whose key opened the session (whose request history this is); null when anonymous. */
  readonly userId: string | null;
  openStream(): MuxStream;
  /** Another session of the same owner took `name` over (resume token or --force). */
  displaced(name: string): void;
}

export interface Registry {
  /** The live target for a name, if any. */
  lookup(name: string): TunnelTarget | undefined;
  /** Binds a name to a target, replacing any earlier binding; wakes waiters. */
  bind(name: string, target: TunnelTarget): void;
  /** Unbinds a name if `target` still holds it; the name counts as reconnecting until `graceUntil`. */
  unbind(name: string, target: TunnelTarget, graceUntil: number): void;
  /** Marks a name as reconnecting until `graceUntil` (e.g. names live before an edge restart). */
  expect(name: string, graceUntil: number): void;
  /** Epoch ms until which requests for `name` should wait, or 0 when they should not. */
  graceUntil(name: string): number;
  /** Resolves with the target once bound, or undefined after `timeoutMs` or when `signal` aborts. */
  waitFor(name: string, timeoutMs: number, signal?: AbortSignal): Promise<TunnelTarget | undefined>;
  /** Names currently bound. */
  names(): string[];
  /** Requests currently waiting for some name. */
  readonly waiting: number;
}
