/**
 * DNS-01 for an order (the wildcard `*.<domain>` can only be proven this way): the key
 * authorization digest goes into TXT at `_acme-challenge.<identifier>.` through the DNS
 * publisher the operator configured (RFC 2136 or an exec hook, certs/dns/), and comes out
 * again after. `*.x` and `x` share that name; the publisher adds values rather than
 * replacing them, so both authorizations of one order can be pending at once.
 */
import type { DnsChallengePublisher } from '../dns/index.js';
import type { ChallengeSolver } from './challenge-solver.js';

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01';

  constructor(private readonly publisher: DnsChallengePublisher) {}

  create(identifier: string, _token: string, keyAuthorization: string): Promise<void> {
    return this.publisher.publish(recordName(identifier), keyAuthorization);
  }

  remove(identifier: string, _token: string, keyAuthorization: string): Promise<void> {
    return this.publisher.unpublish(recordName(identifier), keyAuthorization);
  }
}

/** acme-client gives the identifier without `*.`; the record name is absolute. */
function recordName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '').replace(/\.$/, '')}.`;
}
