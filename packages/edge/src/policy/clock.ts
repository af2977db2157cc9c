/** Time source for the policy's limiters, injected so tests can pin and advance it. */

export interface Clock {
  /** Milliseconds since the epoch; `Date.now` in production. */
  now(): number;
}
