/**
 * How an order proves control of a name. HTTP-01 (here) keeps the key authorization in the
 * store, where every edge's plain listener answers it (http01-responder.ts). A DNS-01
 * solver (RFC 2136 or an exec hook, certs/dns/) implements the same interface for wildcard
 * orders; `AcmeIssuer` takes whichever solver an order needs.
 */
import type { Store } from '../../store/index.js';

export interface ChallengeSolver {
  readonly type: 'http-01' | 'dns-01';
  /**
   * Publishes the proof. `identifier` is the name without `*.`; `keyAuthorization` is what
   * the CA expects to find (for dns-01 already the TXT value).
   */
  create(identifier: string, token: string, keyAuthorization: string): Promise<void>;
  /** Withdraws it; always called after `create`, whether the challenge passed or not. */
  remove(identifier: string, token: string, keyAuthorization: string): Promise<void>;
}

/** How long a published HTTP-01 token is answered; orders finish (or fail) well within it. */
export const HTTP01_TOKEN_TTL_MS = 10 * 60_000;

export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01';

  constructor(
    private readonly deps: {
      store: Pick<Store, 'putAcmeChallenge' | 'deleteAcmeChallenge'>;
      now: () => number;
    },
  ) {}

  create(_identifier: string, token: string, keyAuthorization: string): Promise<void> {
    return this.deps.store.putAcmeChallenge(
      token,
      keyAuthorization,
      new Date(this.deps.now() + HTTP01_TOKEN_TTL_MS),
    );
  }

  remove(_identifier: string, token: string): Promise<void> {
    return this.deps.store.deleteAcmeChallenge(token);
  }
}
