/**
 * Chooses the certificate for a TLS handshake by SNI: what the book holds, else one obtained
 * on demand (only for names the edge serves, bounded by a deadline), else the default
 * certificate, else an alert. Never waits on anything but the on-demand source.
 */

import type { SecureContext } from 'node:tls';
import type { Timers } from '@burrow/protocol';
import type { CertificateSelector, OnDemandCertificates } from '../certs/certificates.js';

export interface CertificateChoice {
  selector: CertificateSelector;
  onDemand?: OnDemandCertificates;
  /** How long a handshake waits for an on-demand certificate before the default is used. */
  onDemandWaitMs: number;
  timers: Timers;
}

type SniDone = (err: Error | null, context?: SecureContext) => void;

/**
 * An `SNICallback` for `tls.TLSSocket`. `none` is a context without a certificate: a name
 * nothing covers gets it, so the client gets a handshake_failure alert (an error passed to
 * `done` would only reset the connection).
 */
export function sniCallback(
  choice: CertificateChoice,
  none: SecureContext,
): (serverName: string, done: SniDone) => void {
  return (serverName, done) => {
    const name = serverName.toLowerCase();
    if (choice.onDemand === undefined) {
      done(null, choice.selector.select(name) ?? none);
      return;
    }
    // Only a name no certificate really covers goes to the on-demand source (it answers at
    // once, without an order, for names the edge does not serve); the default may cover it.
    const covered = choice.selector.covers(name);
    if (covered !== undefined) {
      done(null, covered);
      return;
    }
    const fallback = choice.selector.select(undefined);
    void obtainWithin(choice, name).then((obtained) => done(null, obtained ?? fallback ?? none));
  };
}

/** The on-demand certificate, or undefined once the deadline passes (the default is used then). */
function obtainWithin(choice: CertificateChoice, name: string): Promise<SecureContext | undefined> {
  return new Promise((resolve) => {
    const timer = choice.timers.setTimeout(() => resolve(undefined), choice.onDemandWaitMs);
    choice.onDemand!.obtain(name).then(
      (context) => {
        choice.timers.clearTimeout(timer);
        resolve(context);
      },
      () => {
        choice.timers.clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
