/**
 * One order for one name, end to end: the edge's rate guard, the store's order lock (so
 * edges sharing a store order a name once), the issuer, then the result sealed into the
 * store and installed into the sink; or the failure recorded with its back-off. Used by the
 * on-demand HTTP-01 source and the renewal pass; a DNS-01 wildcard source calls `run` the
 * same way with its own solver and origin 'acme-dns-01'.
 */
import { randomUUID } from 'node:crypto';
import type { TunnelError, Timers } from '@burrow/protocol';
import type { Logger } from '../../logger.js';
import type { CertificateRecord, StoredCertificateOrigin, Store } from '../../store/index.js';
import type { CertificateSink, InstalledCertificate } from '../certificates.js';
import type { KeySeal } from '../key-seal.js';
import { acmeFailure } from './acme-problem.js';
import type { AcmeIssuer } from './acme-issuer.js';
import type { ChallengeSolver } from './challenge-solver.js';
import type { OrderRateGuard } from './order-rate-guard.js';

/** Back-off after failed orders: 5 min, doubling, at most a day (LE allows 5 failed validations per name per hour). */
export const RETRY_BASE_MS = 5 * 60_000;
export const RETRY_MAX_MS = 24 * 3_600_000;
/** How long an edge holds a name's order lock: longer than any order takes. */
export const ORDER_LOCK_MS = 5 * 60_000;
/** Logging of the edge's own rate guard is at most this often. */
const GUARD_LOG_EVERY_MS = 60_000;

export interface OrderRequest {
  name: string;
  hosts: readonly string[];
  origin: StoredCertificateOrigin;
  solver: ChallengeSolver;
}

export type OrderOutcome =
  | { kind: 'issued'; installed: InstalledCertificate }
  | { kind: 'failed'; error: TunnelError }
  /** Held back by the guard, or another edge holds the lock: nothing was ordered here. */
  | { kind: 'deferred'; reason: 'rate-guard' | 'locked' };

export interface CertificateOrdersOptions {
  issuer: Pick<AcmeIssuer, 'issue'>;
  store: Pick<
    Store,
    'claimCertificateOrder' | 'saveCertificate' | 'recordCertificateFailure' | 'getCertificate'
  >;
  seal: KeySeal;
  sink: CertificateSink;
  guard: OrderRateGuard;
  timers: Pick<Timers, 'now'>;
  log: Logger;
  /** Identifies this edge in the order lock. */
  holder?: string;
  /** Told how each order ended (metrics); must not throw. */
  onOutcome?: (outcome: OrderOutcome) => void;
}

export function retryDelayMs(failuresBefore: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failuresBefore, 20));
}

export class CertificateOrders {
  readonly #holder: string;
  #guardLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: CertificateOrdersOptions) {
    this.#holder = options.holder ?? randomUUID();
  }

  /** Never rejects. `failuresBefore` sets the back-off should this order fail. */
  async run(request: OrderRequest, failuresBefore: number): Promise<OrderOutcome> {
    const outcome = await this.#order(request, failuresBefore);
    this.options.onOutcome?.(outcome);
    return outcome;
  }

  async #order(request: OrderRequest, failuresBefore: number): Promise<OrderOutcome> {
    const { store, timers, log, guard } = this.options;
    const { name, hosts, origin } = request;
    const wait = guard.take(name);
    const takenAt = guard.lastTakenAt;
    if (wait !== null) {
      if (timers.now() - this.#guardLoggedAt >= GUARD_LOG_EVERY_MS) {
        this.#guardLoggedAt = timers.now();
        log.warn(
          { name, code: 'TUN_ERR_ACME_RATE_LIMITED', retryInMs: wait },
          'ACME order held back by the order rate guard',
        );
      }
      return { kind: 'deferred', reason: 'rate-guard' };
    }
    try {
      const until = new Date(timers.now() + ORDER_LOCK_MS);
      if (!(await store.claimCertificateOrder({ name, hosts, origin }, this.#holder, until))) {
        // Another edge is ordering it: nothing is placed here, so nothing counts here.
        guard.giveBack(name, takenAt);
        return { kind: 'deferred', reason: 'locked' };
      }
    } catch (err) {
      guard.giveBack(name, takenAt);
      log.error({ err, name }, 'could not take the order lock');
      return { kind: 'deferred', reason: 'locked' };
    }
    log.info({ name, hosts, origin }, 'ACME order started');
    try {
      const material = await this.options.issuer.issue(hosts, request.solver);
      // The sink checks the pair (TUN_ERR_CERT_INVALID otherwise) and reads its facts.
      const installed = this.options.sink.install(material, origin);
      await store.saveCertificate({
        name,
        hosts: installed.hosts,
        origin,
        certPem: material.certPem,
        keySealed: this.options.seal.seal(material.keyPem),
        notBefore: installed.notBefore,
        notAfter: installed.notAfter,
        issuer: installed.issuer,
      });
      log.info(
        { name, notAfter: installed.notAfter, issuer: installed.issuer },
        'ACME certificate installed',
      );
      return { kind: 'issued', installed };
    } catch (err) {
      const error = acmeFailure(name, err);
      // Refused for good stops only a first order: an issued certificate keeps being renewed
      // (backing off) until it expires, since the cause may be fixed meanwhile.
      const keepTrying = error.retryable || (await this.#hasCertificate(name));
      const nextAttemptAt = keepTrying ? new Date(timers.now() + retryDelayMs(failuresBefore)) : null;
      log.error({ name, code: error.code, err: error.message, nextAttemptAt }, 'ACME order failed');
      await store
        .recordCertificateFailure({
          name,
          hosts,
          origin,
          error: `${error.code}: ${error.message}`,
          nextAttemptAt,
        })
        .catch((storeErr: unknown) =>
          log.error({ err: storeErr, name }, 'could not record the failed order'),
        );
      return { kind: 'failed', error };
    }
  }

  async #hasCertificate(name: string): Promise<boolean> {
    try {
      return ((await this.options.store.getCertificate(name))?.certPem ?? null) !== null;
    } catch {
      // Unknown: retrying is the safe side (the back-off bounds it).
      return true;
    }
  }

  /** Installs a stored certificate (at start, or one another edge obtained). */
  /** Stops serving what `installStored` or an order installed (its row was removed). */
  uninstall(installed: InstalledCertificate): void {
    this.options.sink.remove(installed);
  }

  installStored(record: CertificateRecord): InstalledCertificate | undefined {
    if (record.certPem === null || record.keySealed === null) return undefined;
    try {
      const keyPem = this.options.seal.open(record.keySealed);
      return this.options.sink.install({ certPem: record.certPem, keyPem }, record.origin);
    } catch (err) {
      this.options.log.error({ err, name: record.name }, 'a stored certificate could not be installed');
      return undefined;
    }
  }
}
