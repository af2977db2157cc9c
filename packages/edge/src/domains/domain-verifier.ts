/**
 * Verifies custom domains: once at start and then every `intervalMs`, looks up the TXT
 * records at `_burrow.<hostname>` of unverified domains and marks a domain verified when
 * one record is exactly its token. DNS and store failures are logged, never thrown.
 */

import type { Timers } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import { domainVerificationRecord, type DomainRecord, type Store } from '../store/index.js';
import type { TxtLookup } from './txt-lookup.js';

/** Answers that only mean "no record yet": logged at debug, as they are the normal wait. */
const NOT_YET = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

export interface DomainVerifierOptions {
  store: Pick<Store, 'listDomains' | 'markDomainVerified'>;
  lookupTxt: TxtLookup;
  timers: Timers;
  log: Logger;
  intervalMs: number;
  /** Domains looked up per pass at most; the rest wait for later passes, oldest-checked first. */
  maxPerPass?: number;
  /** Lookups in flight at once within a pass. */
  concurrency?: number;
  /**
   * Called after every pass with the hostnames it verified (possibly none), e.g. to reload
   * DomainRoutes; awaited, so stop() also waits for it. Must not reject.
   */
  onPass?(verified: readonly string[]): void | Promise<void>;
}

export class DomainVerifier {
  private readonly maxPerPass: number;
  private readonly concurrency: number;
  private timer: unknown = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  /** Hostname the last pass stopped after, so a long backlog is walked round-robin. */
  private cursor = '';

  constructor(private readonly deps: DomainVerifierOptions) {
    this.maxPerPass = deps.maxPerPass ?? 100;
    this.concurrency = deps.concurrency ?? 8;
  }

  /** Runs a pass now (not awaited) and then on the interval; a pass never overlaps another. */
  start(): void {
    if (this.stopped) return;
    const tick = (): void => {
      if (this.running || this.stopped) return;
      this.running = this.verifyPass().finally(() => (this.running = null));
    };
    this.timer = this.deps.timers.setInterval(tick, this.deps.intervalMs);
    tick();
  }

  /** Stops the interval and waits for a pass in flight (its lookups are deadline-bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.timers.clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns the hostnames it verified. Exposed for tests. */
  async verifyPass(): Promise<string[]> {
    const { store, log } = this.deps;
    const verified: string[] = [];
    try {
      const batch = this.nextBatch(await store.listDomains({ verified: false }));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.length && !this.stopped) {
          const domain = batch[next++]!;
          if (await this.check(domain)) verified.push(domain.hostname);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, batch.length) }, worker));
    } catch (err) {
      log.error({ err }, 'custom domain verification pass failed');
    }
    await this.deps.onPass?.(verified);
    return verified;
  }

  /** Up to maxPerPass pending domains, starting after the cursor and wrapping around. */
  private nextBatch(pending: readonly DomainRecord[]): DomainRecord[] {
    const sorted = [...pending].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
    const from = sorted.findIndex((d) => d.hostname > this.cursor);
    const rotated = from <= 0 ? sorted : [...sorted.slice(from), ...sorted.slice(0, from)];
    const batch = rotated.slice(0, this.maxPerPass);
    this.cursor = batch.length < rotated.length ? (batch.at(-1)?.hostname ?? '') : '';
    return batch;
  }

  /** True when the domain's token was found and the store marked it verified. */
  private async check(domain: DomainRecord): Promise<boolean> {
    const { log } = this.deps;
    const record = domainVerificationRecord(domain.hostname, domain.verificationToken);
    let values: string[];
    try {
      values = await this.deps.lookupTxt(record.name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NOT_YET.has(code)) log.debug({ hostname: domain.hostname, code }, 'no verification record yet');
      else log.warn({ hostname: domain.hostname, code, err }, 'TXT lookup for a custom domain failed');
      return false;
    }
    if (!values.includes(record.value)) {
      log.debug({ hostname: domain.hostname, found: values.length }, 'verification record does not match');
      return false;
    }
    try {
      await this.deps.store.markDomainVerified(domain.hostname);
    } catch (err) {
      log.error({ err, hostname: domain.hostname }, 'could not mark a custom domain verified');
      return false;
    }
    log.info({ hostname: domain.hostname, tunnel: domain.tunnelName }, 'custom domain verified');
    return true;
  }
}
