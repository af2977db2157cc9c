/**
 * A name's certificate state as the API shows it (issuer, validity, last error; never the
 * PEM or key), for the single-record answers of `/tunnels/{name}` and `/domains/{hostname}`.
 * Lists leave it out: one store read per row would make them cost as much as they are long.
 */
import type { CertificateRecord } from '../store/index.js';
import type { ApiDeps } from './api-deps.js';

export function certificateView(record: CertificateRecord | undefined): Record<string, unknown> | null {
  if (record === undefined) return null;
  return {
    origin: record.origin,
    issuer: record.issuer,
    notBefore: record.notBefore?.toISOString() ?? null,
    notAfter: record.notAfter?.toISOString() ?? null,
    lastError: record.lastError,
    lastAttemptAt: record.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: record.nextAttemptAt?.toISOString() ?? null,
    renewRequested: record.renewRequested,
  };
}

export async function certificateOf(
  deps: ApiDeps,
  host: string,
): Promise<{ certificate: Record<string, unknown> | null }> {
  return { certificate: certificateView(await deps.store.getCertificate(host)) };
}

/** A tunnel's own certificate, else the `*.<domain>` wildcard that serves its host. */
export async function tunnelCertificateOf(
  deps: ApiDeps,
  name: string,
): Promise<{ certificate: Record<string, unknown> | null }> {
  const own = await deps.store.getCertificate(`${name}.${deps.baseDomain}`);
  // A row without a certificate (a failed first order from before the wildcard) is not what serves the host.
  const record =
    own?.certPem != null ? own : ((await deps.store.getCertificate(`*.${deps.baseDomain}`)) ?? own);
  return { certificate: certificateView(record) };
}
