/**
 * Builds the edge's certificate book from its settings: the file pair (`tls.certFile`,
 * `tls.keyFile`), watched for changes, and the self-signed development CA
 * (`tls.generate: self-signed`). ACME sources install into the same book later.
 */
import type { Timers } from '@burrow/protocol';
import { edgeBaseUrl, tunnelUrl, type EdgeConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { CertificateBook } from './certificate-book.js';
import { FileCertificates } from './file-certificates.js';
import { installSelfSigned } from './self-signed.js';
import { trustInstructions } from './trust-instructions.js';

export interface CertificateSources {
  readonly book: CertificateBook;
  /** The file source, for `lastError` (certs list, API); null without `tls.certFile`. */
  readonly files: FileCertificates | null;
  /** Stops watching files. */
  stop(): void;
}

export interface CertificateSourcesDeps {
  readonly log: Logger;
  readonly timers: Timers;
}

type TlsConfig = Pick<EdgeConfig, 'domain' | 'dataDir' | 'tls' | 'publicUrl' | 'httpsListen'>;

/** Installs every configured source; throws TUN_ERR_CERT_INVALID when the file pair is unusable. */
export async function startCertificateSources(
  config: TlsConfig,
  { log, timers }: CertificateSourcesDeps,
): Promise<CertificateSources> {
  const book = new CertificateBook({ defaultHost: config.domain, clock: timers });
  const { certFile, keyFile, generate } = config.tls;
  let files: FileCertificates | null = null;
  if (certFile !== null && keyFile !== null) {
    files = new FileCertificates({ certFile, keyFile, book, log, timers });
    const installed = files.load();
    log.info(
      { certFile, hosts: installed.hosts, notAfter: installed.notAfter.toISOString() },
      'serving the certificate files; they are reloaded when they change',
    );
    files.start();
  }
  if (generate === 'self-signed') {
    const made = await installSelfSigned({
      dataDir: config.dataDir,
      domain: config.domain,
      book,
      clock: timers,
    });
    log.warn(
      {
        caFile: made.caFile,
        caCreated: made.caCreated,
        hosts: made.installed.hosts,
        trust: trustInstructions({ caFile: made.caFile, ...trustUrls(config) }),
        // Clients refuse `*.localhost` (a wildcard right under a top-level name) for <name>.localhost.
        ...(config.domain.includes('.')
          ? {}
          : {
              hint: `clients accept *.${config.domain} only for ${config.domain} itself; for tunnel names use --domain dev.${config.domain}`,
            }),
      },
      `self-signed certificates for development only: clients must trust ${made.caFile} (commands in "trust")`,
    );
  }
  const source = files;
  return { book, files, stop: () => source?.stop() };
}

/**
 * The HTTPS URLs the trust commands show (the public port when one is set). Logged before the
 * listener binds, so a port 0 (chosen at listen) is shown as `<port>`.
 */
function trustUrls(config: TlsConfig): { edgeUrl: string; tunnelUrl: string } {
  const urls = {
    domain: config.domain,
    publicUrl: { scheme: 'https', port: config.publicUrl.port },
  } as const;
  const port = config.httpsListen?.port ?? 443;
  if (port === 0 && config.publicUrl.port === null) {
    return { edgeUrl: `https://${config.domain}:<port>`, tunnelUrl: `https://app.${config.domain}:<port>` };
  }
  return { edgeUrl: edgeBaseUrl(urls, port), tunnelUrl: tunnelUrl(urls, 'app', port) };
}
