/**
 * What a DNS-01 solver needs from DNS: put a TXT value at `_acme-challenge.<domain>.` and
 * take it away again. Implementations add values rather than replace the set, because a
 * wildcard and its apex (`*.x` and `x`) are validated through the same name at once.
 */
export interface DnsChallengePublisher {
  /**
   * Adds `value` to the TXT records at `fqdn` and resolves once the authoritative servers
   * answer it, so the CA can be told to validate. Rejects with a `TunnelError`
   * (`TUN_ERR_DNS_UPDATE_FAILED`, `TUN_ERR_DNS_PROPAGATION_TIMEOUT`, `TUN_ERR_DNS_HOOK_FAILED`)
   * as soon as the failure is known: a rejected update is never followed by waiting.
   */
  publish(fqdn: string, value: string): Promise<void>;
  /** Removes `value` from the TXT records at `fqdn`, leaving any other value there. */
  unpublish(fqdn: string, value: string): Promise<void>;
}
