/**
 * Certificates on demand by ACME HTTP-01 (`OnDemandCertificates`), and their renewal.
 *
 * `obtain(name)`: first the decision (responsibility.ts), so names the edge does not serve
 * cost nothing; then one flight per name, which others join and wait on up to `waitMs`:
 * the store's certificate when it has one (another edge may have ordered it), else an order
 * unless the name is backing off or was refused for good. An existing certificate stays in
 * the sink until its replacement is installed.
 *
 * With a DNS-01 solver (`wildcard`), the edge keeps `*.<domain>` + `<domain>` in one
 * certificate (`obtainWildcard()` at start, in the background): the domain and every
 * `<name>.<domain>` join that one flight instead of ordering per name by HTTP-01, and a
 * name some certificate in the book already covers (a wildcard file pair too) never orders.
 *
 * `renewDue()`, every `renewIntervalMs`: installs certificates other edges renewed, stops
 * serving those `certs remove` deleted from the store, and orders again once two thirds of a
 * certificate's lifetime have passed, when `certs renew` asked for it, or when a failed first
 * order's back-off has run out.
 */
import type { SecureContext } from 'node:tls';
import type { Timers } from '@burrow/protocol';
import type { Logger } from '../../logger.js';
import type { CertificateRecord, Store } from '../../store/index.js';
import type { InstalledCertificate, OnDemandCertificates } from '../certificates.js';
import type { CertificateOrders, OrderRequest } from './certificate-orders.js';
import type { ChallengeSolver } from './challenge-solver.js';
import { normalizeServerName, type Responsibility } from './responsibility.js';

/** Renew once this share of the lifetime has passed (PATTERNS 1.4). */
export const RENEW_AT_LIFETIME_SHARE = 2 / 3;

export interface AcmeCertificatesOptions {
  orders: CertificateOrders;
  store: Pick<Store, 'getCertificate' | 'listCertificates'>;
  responsible: Responsibility;
  solver: ChallengeSolver;
  timers: Timers;
  log: Logger;
  waitMs: number;
  renewIntervalMs: number;
  /** A certificate the book holds that names the host itself (exact or by wildcard), never the default. */
  covers?: (host: string) => SecureContext | undefined;
  /** The `*.<domain>` wildcard by DNS-01; without it every name is ordered by HTTP-01. */
  wildcard?: { domain: string; solver: ChallengeSolver };
}

interface Held {
  notAfter: number;
  context: SecureContext;
  /** What the sink holds, to stop serving it when its row is removed. */
  installed: InstalledCertificate;
  /** When this edge installed it: a pass only removes what its store listing could have shown. */
  installedAt: number;
}

export class AcmeCertificates implements OnDemandCertificates {
  /** Names whose certificate this edge installed, by the version installed. */
  readonly #held = new Map<string, Held>();
  readonly #flights = new Map<string, Promise<SecureContext | undefined>>();
  #timer: unknown = null;
  #pass: Promise<void> | null = null;
  /** Set by stop(): a pass under way orders nothing more. */
  #stopped = false;

  constructor(private readonly options: AcmeCertificatesOptions) {}

  obtain(serverName: string): Promise<SecureContext | undefined> {
    const name = normalizeServerName(serverName);
    if (name === null) return Promise.resolve(undefined);
    const covered = this.options.covers?.(name);
    if (covered !== undefined) return Promise.resolve(covered);
    const wildcard = this.#wildcardCovers(name) ? this.#wildcardName : null;
    if (wildcard !== null) return this.#within(this.#joinWildcard(name, wildcard), this.options.waitMs);
    const held = this.#held.get(name);
    if (held !== undefined) return Promise.resolve(held.context);
    return this.#within(this.#flightFor(name), this.options.waitMs);
  }

  /**
   * The wildcard from the store, or ordered when absent (at start, not awaited by the
   * listen; the outcome is logged). Resolves false without a wildcard source.
   */
  async obtainWildcard(): Promise<boolean> {
    const name = this.#wildcardName;
    if (name === null) return false;
    const context = this.#held.get(name)?.context ?? (await this.#flightFor(name));
    if (context === undefined)
      this.options.log.warn({ name }, 'no wildcard certificate yet; the renewal pass retries');
    else this.options.log.info({ name }, 'serving the DNS-01 wildcard certificate');
    return context !== undefined;
  }

  /** A name under the domain: the wildcard, joined only for names the edge serves (random SNI costs nothing). */
  async #joinWildcard(host: string, wildcard: string): Promise<SecureContext | undefined> {
    const held = this.#held.get(wildcard);
    if (held !== undefined) return held.context;
    if (!(await this.options.responsible(host, true))) return undefined;
    return this.#flightFor(wildcard);
  }

  /** The one flight for a name, joined when one is under way. */
  #flightFor(name: string): Promise<SecureContext | undefined> {
    let flight = this.#flights.get(name);
    if (flight === undefined) {
      flight = this.#fly(name, false).finally(() => this.#flights.delete(name));
      this.#flights.set(name, flight);
    }
    return flight;
  }

  /** Installs every stored certificate into the sink (at start). */
  async loadStored(): Promise<number> {
    const records = await this.options.store.listCertificates({ withCertificate: true });
    return records.filter((record) => this.#install(record) !== undefined).length;
  }

  start(): void {
    this.#stopped = false;
    this.#timer ??= this.options.timers.setInterval(() => void this.renewDue(), this.options.renewIntervalMs);
  }

  /** Stops the renewal loop; waits for orders in flight at most STOP_WAIT_MS (shutdown stays bounded). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.options.timers.clearInterval(this.#timer);
    this.#timer = null;
    const settled = Promise.allSettled([this.#pass, ...this.#flights.values()]).then(() => undefined);
    await this.#within(settled, STOP_WAIT_MS);
  }

  /** One renewal pass (one at a time); never rejects. */
  renewDue(): Promise<void> {
    this.#pass ??= this.#renewPass()
      .catch((err: unknown) => this.options.log.error({ err }, 'certificate renewal pass failed'))
      .finally(() => (this.#pass = null));
    return this.#pass;
  }

  async #renewPass(): Promise<void> {
    const now = this.options.timers.now();
    const records = await this.options.store.listCertificates();
    this.#dropRemoved(records, now);
    for (const record of records) {
      if (this.#stopped) return;
      const wildcardRow = record.origin === 'acme-dns-01' && record.name === this.#wildcardName;
      if (record.origin !== 'acme-http-01' && !wildcardRow) continue;
      const mine = this.#held.get(record.name);
      // Another edge renewed it: serve the newer one.
      if (record.notAfter !== null && (mine === undefined || mine.notAfter < record.notAfter.getTime())) {
        this.#install(record);
      }
      if (!dueForOrder(record, now) || this.#flights.has(record.name)) continue;
      if (!wildcardRow && !(await this.options.responsible(record.name))) continue;
      const flight = this.#fly(record.name, true).finally(() => this.#flights.delete(record.name));
      this.#flights.set(record.name, flight);
      await flight;
    }
  }

  /** The one flight for a name. Never rejects. */
  async #fly(name: string, renewal: boolean): Promise<SecureContext | undefined> {
    const { log } = this.options;
    try {
      const wildcard = name === this.#wildcardName;
      if (!renewal && !wildcard && !(await this.options.responsible(name))) return undefined;
      const stored = await this.options.store.getCertificate(name);
      const current = stored === undefined ? undefined : this.#install(stored);
      if (!renewal && current !== undefined) return current;
      if (!renewal && stored !== undefined && !mayOrder(stored, this.options.timers.now())) return undefined;
      const outcome = await this.options.orders.run(this.#requestFor(name), stored?.failures ?? 0);
      if (outcome.kind === 'issued') {
        this.#hold(name, outcome.installed);
        return outcome.installed.context;
      }
      if (outcome.kind === 'deferred' && outcome.reason === 'locked') return await this.#awaitOtherEdge(name);
      return current;
    } catch (err) {
      log.error({ err, name }, 'on-demand certificate failed');
      return undefined;
    }
  }

  /** `*.<domain>` when a DNS-01 solver is configured. */
  get #wildcardName(): string | null {
    const { wildcard } = this.options;
    return wildcard === undefined ? null : `*.${wildcard.domain}`;
  }

  /** The domain itself or one label under it: the wildcard certificate's job. */
  #wildcardCovers(host: string): boolean {
    const domain = this.options.wildcard?.domain;
    if (domain === undefined) return false;
    return (
      host === domain || (host.endsWith(`.${domain}`) && !host.slice(0, -domain.length - 1).includes('.'))
    );
  }

  #requestFor(name: string): OrderRequest {
    const { wildcard } = this.options;
    if (wildcard !== undefined && name === this.#wildcardName) {
      return { name, hosts: [name, wildcard.domain], origin: 'acme-dns-01', solver: wildcard.solver };
    }
    return { name, hosts: [name], origin: 'acme-http-01', solver: this.options.solver };
  }

  /** Another edge holds the order lock: poll the store for its result, up to waitMs. */
  async #awaitOtherEdge(name: string): Promise<SecureContext | undefined> {
    const deadline = this.options.timers.now() + this.options.waitMs;
    while (this.options.timers.now() < deadline) {
      await new Promise<void>((resolve) => this.options.timers.setTimeout(resolve, OTHER_EDGE_POLL_MS));
      const stored = await this.options.store.getCertificate(name);
      if (stored === undefined || stored.lastError !== null) return undefined;
      const installed = this.#install(stored);
      if (installed !== undefined) return installed;
    }
    return undefined;
  }

  #install(record: CertificateRecord): SecureContext | undefined {
    const held = this.#held.get(record.name);
    if (held !== undefined && held.notAfter >= (record.notAfter?.getTime() ?? 0)) return held.context;
    const installed = this.options.orders.installStored(record);
    if (installed === undefined) return undefined;
    this.#hold(record.name, installed);
    return installed.context;
  }

  #hold(name: string, installed: InstalledCertificate): void {
    this.#held.set(name, {
      notAfter: installed.notAfter.getTime(),
      context: installed.context,
      installed,
      installedAt: this.options.timers.now(),
    });
  }

  /**
   * `certs remove` deletes the row; every edge stops serving that certificate here. Skipped:
   * names with an order in flight, and ones installed after the listing began (an order that
   * finished meanwhile is not in it yet). The next handshake for the name orders afresh.
   */
  #dropRemoved(records: readonly CertificateRecord[], listedAt: number): void {
    const stored = new Set(records.map((record) => record.name));
    for (const [name, held] of this.#held) {
      if (stored.has(name) || this.#flights.has(name) || held.installedAt >= listedAt) continue;
      this.#held.delete(name);
      this.options.orders.uninstall(held.installed);
      this.options.log.info({ name }, 'certificate removed from the store; no longer served');
    }
  }

  #within<T>(promise: Promise<T | undefined>, ms: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = this.options.timers.setTimeout(() => resolve(undefined), ms);
      void promise.then((value) => {
        this.options.timers.clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

const OTHER_EDGE_POLL_MS = 2_000;
/** An order still running at shutdown is abandoned after this; it is retried after the restart. */
const STOP_WAIT_MS = 2_000;

/** Whether a name with a stored row may be ordered now: not backing off, not refused for good. */
function mayOrder(record: CertificateRecord, now: number): boolean {
  if (record.renewRequested) return true;
  if (record.nextAttemptAt !== null) return record.nextAttemptAt.getTime() <= now;
  // Failures with no next attempt: the CA refused a first order for good (TUN_ERR_ACME_REJECTED).
  // An issued certificate is never given up (rows recorded before that rule included).
  return record.failures === 0 || record.certPem !== null;
}

/**
 * Renewal pass: due when asked, in the last third of the lifetime, or with no certificate
 * yet (a failed first order whose back-off ran out, or one cut short by a crash or deferred
 * by the rate guard; the store's order lock keeps a running one from being ordered twice).
 */
export function dueForOrder(record: CertificateRecord, now: number): boolean {
  if (!mayOrder(record, now)) return false;
  if (record.renewRequested) return true;
  if (record.notBefore === null || record.notAfter === null) return true;
  const start = record.notBefore.getTime();
  return now >= start + (record.notAfter.getTime() - start) * RENEW_AT_LIFETIME_SHARE;
}
