/**
 * Builds the ACME source from the edge's config, or nothing when `acme.email` is unset:
 * HTTP-01 on demand, and the `*.<domain>` wildcard by DNS-01 when `acme.dns` names a
 * publisher (an RFC 2136 server or a hook).
 */
import { readFileSync } from 'node:fs';
import type { Timers } from '@burrow/protocol';
import { TunnelError } from '@burrow/protocol';
import type { EdgeConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/index.js';
import type { CertificateSelector, CertificateSink } from '../certificates.js';
import { dnsPublisherFromSettings } from '../dns/index.js';
import { KeySeal } from '../key-seal.js';
import { AcmeCertificates } from './acme-certificates.js';
import { AcmeIssuer } from './acme-issuer.js';
import { CertificateOrders, type OrderOutcome } from './certificate-orders.js';
import { Http01Solver } from './challenge-solver.js';
import { Dns01Solver } from './dns01-solver.js';
import { OrderRateGuard } from './order-rate-guard.js';
import { responsibility } from './responsibility.js';

export interface AcmeSetupDeps {
  config: EdgeConfig;
  store: Store;
  secret: Uint8Array;
  /** The book: where orders install, and what already covers a host (no order then). */
  sink: CertificateSink & Pick<CertificateSelector, 'covers'>;
  isLive(name: string): boolean;
  customHosts: { lookup(host: string): Promise<string | undefined> };
  timers: Timers;
  log: Logger;
  /** Told how each order ended (metrics). */
  onOrder?: (outcome: OrderOutcome) => void;
}

export function createAcmeCertificates(deps: AcmeSetupDeps): AcmeCertificates | null {
  const { config, store, timers } = deps;
  const { acme } = config;
  if (acme.email === null) return null;
  const log = deps.log.child({ part: 'acme' });
  const seal = new KeySeal(deps.secret);
  const publisher = dnsPublisherFromSettings(acme.dns);
  const issuer = new AcmeIssuer({
    store,
    seal,
    directoryUrl: acme.directory,
    email: acme.email,
    caPem: acme.caFile === null ? undefined : readCaFile(acme.caFile),
    log,
  });
  const orders = new CertificateOrders({
    issuer,
    store,
    seal,
    sink: deps.sink,
    guard: new OrderRateGuard({
      clock: timers,
      perHour: acme.ordersPerHour,
      perDomainPerWeek: acme.ordersPerDomainPerWeek,
    }),
    timers,
    log,
    onOutcome: deps.onOrder,
  });
  return new AcmeCertificates({
    orders,
    store,
    responsible: responsibility({
      domain: config.domain,
      isLive: (name) => deps.isLive(name),
      store,
      customHosts: deps.customHosts,
      onDemandTemporary: acme.onDemandTemporary,
    }),
    solver: new Http01Solver({ store, now: () => timers.now() }),
    timers,
    log,
    waitMs: acme.waitMs,
    renewIntervalMs: acme.renewIntervalMs,
    covers: (host) => deps.sink.covers(host),
    wildcard: publisher === null ? undefined : { domain: config.domain, solver: new Dns01Solver(publisher) },
  });
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `acme.caFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a readable PEM file or unset it`,
      { cause: err },
    );
  }
}
