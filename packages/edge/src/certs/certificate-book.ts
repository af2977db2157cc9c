/**
 * The certificates the edge serves, chosen by SNI on every handshake. Sources install
 * pairs (checked, and their SecureContext built once, here); `select` only reads two maps:
 * exact host -> candidates, and wildcard parent (`example.com` for `*.example.com`) ->
 * candidates, each list kept best-first (origin preference, then latest expiry).
 *
 * Default certificate (no SNI, or a name nothing covers): the one the edge's own domain
 * gets — a certificate naming the domain, else its `*.<domain>` wildcard. Without one the
 * handshake for an unknown name fails with an alert; it never triggers an order here.
 */
import { createSecureContext } from 'node:tls';
import { TunnelError, type Clock } from '@burrow/protocol';
import type {
  CertificateMaterial,
  CertificateOrigin,
  CertificateSelector,
  CertificateSink,
  InstalledCertificate,
} from './certificates.js';
import { normalizeHost, wildcardFor } from './host-names.js';
import { parseCertificate } from './parse-certificate.js';
import type { SecureContext } from 'node:tls';

/** Lower is preferred, for the same host and kind of match. */
const PREFERENCE: Readonly<Record<CertificateOrigin, number>> = {
  file: 0,
  'acme-dns-01': 1,
  'acme-http-01': 2,
  'self-signed': 3,
};

export function preferenceOf(origin: CertificateOrigin): number {
  return PREFERENCE[origin];
}

/** What the book holds per certificate: the seam's view plus its serial, for logs and lists. */
export interface BookEntry extends InstalledCertificate {
  readonly serialNumber: string;
}

export interface CertificateBookOptions {
  /** The edge's own domain: its certificate is the default (see the file comment). */
  readonly defaultHost?: string;
  /** Decides what is expired; `Date.now` by default. */
  readonly clock?: Clock;
}

/** Same origin and same hosts means the same certificate renewed or reloaded. */
function identityOf(origin: CertificateOrigin, hosts: readonly string[]): string {
  return `${origin} ${[...hosts].sort().join(',')}`;
}

function better(a: BookEntry, b: BookEntry): number {
  return preferenceOf(a.origin) - preferenceOf(b.origin) || b.notAfter.getTime() - a.notAfter.getTime();
}

function buildContext(material: CertificateMaterial): SecureContext {
  try {
    // The listener swaps these in (SNI, and its own pair for clients without SNI): each
    // carries the TLS 1.2 floor, whatever Node's default (--tls-min-v1.0) says.
    return createSecureContext({ cert: material.certPem, key: material.keyPem, minVersion: 'TLSv1.2' });
  } catch (err) {
    throw new TunnelError('TUN_ERR_CERT_INVALID', `TLS refused the pair: ${(err as Error).message}`);
  }
}

export class CertificateBook implements CertificateSelector, CertificateSink {
  private readonly exact = new Map<string, BookEntry[]>();
  /** Keyed by the parent of the wildcard: `*.example.com` is under `example.com`. */
  private readonly wildcards = new Map<string, BookEntry[]>();
  private readonly byIdentity = new Map<string, BookEntry>();
  /** The PEMs behind each entry: Node uses a server's own pair, not SNICallback, when a client sends no SNI. */
  private readonly materials = new WeakMap<BookEntry, CertificateMaterial>();
  private readonly listeners = new Set<() => void>();
  private readonly clock: Clock;
  private readonly defaultHost: string | undefined;

  constructor(options: CertificateBookOptions = {}) {
    this.clock = options.clock ?? Date;
    this.defaultHost = options.defaultHost === undefined ? undefined : normalizeHost(options.defaultHost);
  }

  install(material: CertificateMaterial, origin: CertificateOrigin): BookEntry {
    const parsed = parseCertificate(material);
    const entry: BookEntry = {
      hosts: parsed.hosts,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      issuer: parsed.issuer,
      serialNumber: parsed.serialNumber,
      origin,
      context: buildContext(material),
    };
    // Everything that can throw has run: from here the swap cannot leave a gap.
    const identity = identityOf(origin, entry.hosts);
    const old = this.byIdentity.get(identity);
    if (old !== undefined) this.forget(old);
    this.byIdentity.set(identity, entry);
    this.materials.set(entry, { certPem: material.certPem, keyPem: material.keyPem });
    for (const host of entry.hosts) {
      const [map, key] = host.startsWith('*.') ? [this.wildcards, host.slice(2)] : [this.exact, host];
      const list = map.get(key) ?? [];
      list.push(entry);
      list.sort(better);
      map.set(key, list);
    }
    for (const listener of this.listeners) listener();
    return entry;
  }

  /** Called after every install and removal; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The default certificate's PEMs, for a listener's own pair (handshakes without SNI). */
  defaultMaterial(): CertificateMaterial | undefined {
    const entry = this.defaultEntry();
    return entry === undefined ? undefined : this.materials.get(entry);
  }

  remove(certificate: InstalledCertificate): boolean {
    const identity = identityOf(certificate.origin, certificate.hosts);
    const entry = this.byIdentity.get(identity);
    if (entry === undefined || entry !== certificate) return false;
    this.byIdentity.delete(identity);
    this.forget(entry);
    for (const listener of this.listeners) listener();
    return true;
  }

  list(): readonly BookEntry[] {
    return [...this.byIdentity.values()];
  }

  select(serverName: string | undefined): SecureContext | undefined {
    return this.entryFor(serverName)?.context;
  }

  covers(serverName: string): SecureContext | undefined {
    const entry = this.coveringEntry(serverName);
    const now = this.clock.now();
    // A self-signed certificate does not count: ACME is preferred over it. Neither does one
    // outside its validity: on-demand may then get its replacement.
    if (entry === undefined || entry.origin === 'self-signed') return undefined;
    if (entry.notBefore.getTime() > now || now >= entry.notAfter.getTime()) return undefined;
    return entry.context;
  }

  /** What `select` would serve, with its details. */
  entryFor(serverName: string | undefined): BookEntry | undefined {
    if (serverName === undefined || serverName === '') return this.defaultEntry();
    return this.coveringEntry(serverName) ?? this.defaultEntry();
  }

  private coveringEntry(serverName: string): BookEntry | undefined {
    const host = normalizeHost(serverName);
    const wildcard = host.includes('*') ? undefined : wildcardFor(host);
    return this.pick(
      this.exact.get(host),
      wildcard === undefined ? undefined : this.wildcards.get(wildcard.slice(2)),
    );
  }

  private defaultEntry(): BookEntry | undefined {
    if (this.defaultHost === undefined) return undefined;
    return this.pick(this.exact.get(this.defaultHost), this.wildcards.get(this.defaultHost));
  }

  /** The first valid entry, exact list before wildcard list; if all are expired, the best of them. */
  private pick(exact: BookEntry[] | undefined, wildcard: BookEntry[] | undefined): BookEntry | undefined {
    const now = this.clock.now();
    for (const list of [exact, wildcard]) {
      for (const entry of list ?? []) {
        if (entry.notBefore.getTime() <= now && now < entry.notAfter.getTime()) return entry;
      }
    }
    return exact?.[0] ?? wildcard?.[0];
  }

  private forget(entry: BookEntry): void {
    for (const host of entry.hosts) {
      const [map, key] = host.startsWith('*.') ? [this.wildcards, host.slice(2)] : [this.exact, host];
      const rest = (map.get(key) ?? []).filter((other) => other !== entry);
      if (rest.length === 0) map.delete(key);
      else map.set(key, rest);
    }
  }
}
