/**
 * The file source: a certificate/key pair on disk (`tls.certFile`, `tls.keyFile`), installed
 * with origin `file` at start and again whenever the files change, without a restart.
 *
 * Changes are noticed by fs.watch on the files' directories (editors, certbot and
 * cert-manager replace files by rename, which a watch on the file itself would lose) and by
 * a slow poll of mtime/size/inode in case the watch misses something (network filesystems,
 * a directory replaced). Both only schedule a check after `debounceMs` of quiet, so a cert
 * written a moment before its key is read with its key. A pair that does not load (garbage,
 * a mismatched key, a file missing mid-swap) is logged once and kept as `lastError`; the
 * certificate in use stays in use.
 */
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { toTunnelError, TunnelError, type Timers } from '@burrow/protocol';
import type { Logger } from '../logger.js';
import type { CertificateSink, InstalledCertificate } from './certificates.js';

/** Quiet time after a change before the pair is read. */
export const FILE_RELOAD_DEBOUNCE_MS = 500;
/** Fallback poll; fs.watch does the prompt work. */
export const FILE_RELOAD_POLL_MS = 30_000;

export interface FileCertificatesOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly book: CertificateSink;
  readonly log: Logger;
  readonly timers: Timers;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

/** What identifies a file's content cheaply: changes on every write and every rename over it. */
function signatureOf(file: string): string {
  try {
    const stats = statSync(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export class FileCertificates {
  /** The pair's certificate in the book, once loaded. */
  current: InstalledCertificate | null = null;
  /** Why the last reload failed; null after a successful one. */
  lastError: TunnelError | null = null;
  private signature = '';
  private watchers: FSWatcher[] = [];
  private debounce: unknown = null;
  private poll: unknown = null;

  constructor(private readonly options: FileCertificatesOptions) {}

  /** Reads and installs the pair now; throws TUN_ERR_CERT_INVALID naming the files. */
  load(): InstalledCertificate {
    const { certFile, keyFile, book } = this.options;
    // Taken before reading, so a write during the read shows up as a change next time.
    this.signature = this.currentSignature();
    let installed: InstalledCertificate;
    try {
      installed = book.install(
        { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') },
        'file',
      );
    } catch (err) {
      // A file missing or unreadable mid-swap is as unusable as garbage: one code for both.
      const reason = err instanceof Error ? err.message : String(err);
      throw new TunnelError('TUN_ERR_CERT_INVALID', `certificate ${certFile} with key ${keyFile}: ${reason}`);
    }
    // Same names: install already replaced it. Other names: the old pair must stop being served.
    if (this.current !== null && this.current !== installed) book.remove(this.current);
    this.current = installed;
    this.lastError = null;
    this.checkKeyMode();
    return installed;
  }

  /** A key other users can read is a leaked key on a shared machine: say so, serve anyway. */
  private checkKeyMode(): void {
    const { keyFile, log } = this.options;
    const mode = statSync(keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      log.warn(
        { keyFile, mode: mode.toString(8) },
        `private key ${keyFile} is readable by other users: chmod 600 it (owned by the user the edge runs as)`,
      );
    }
  }

  start(): void {
    const { certFile, keyFile, timers } = this.options;
    for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.changed());
        // A watch that breaks (directory removed) leaves the poll to notice changes.
        watcher.on('error', (err) =>
          this.options.log.warn({ err, dir }, 'certificate directory watch failed'),
        );
        this.watchers.push(watcher);
      } catch (err) {
        this.options.log.warn({ err, dir }, 'cannot watch certificate directory; polling only');
      }
    }
    this.poll = timers.setInterval(() => this.changed(), this.options.pollMs ?? FILE_RELOAD_POLL_MS);
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    this.options.timers.clearTimeout(this.debounce);
    this.options.timers.clearInterval(this.poll);
    this.debounce = null;
    this.poll = null;
  }

  /** Something may have changed: check once things are quiet. */
  private changed(): void {
    const { timers } = this.options;
    timers.clearTimeout(this.debounce);
    this.debounce = timers.setTimeout(() => {
      this.debounce = null;
      this.reloadIfChanged();
    }, this.options.debounceMs ?? FILE_RELOAD_DEBOUNCE_MS);
  }

  private currentSignature(): string {
    return `${signatureOf(this.options.certFile)} ${signatureOf(this.options.keyFile)}`;
  }

  private reloadIfChanged(): void {
    if (this.currentSignature() === this.signature) return;
    const { certFile, keyFile, log } = this.options;
    try {
      const installed = this.load();
      log.info(
        { certFile, hosts: installed.hosts, notAfter: installed.notAfter.toISOString() },
        'certificate files reloaded',
      );
    } catch (err) {
      this.lastError = toTunnelError(err);
      // Logged once per version of the files: the signature is already recorded.
      log.error(
        { code: this.lastError.code, certFile, keyFile },
        `${this.lastError.message}; still serving the certificate loaded before`,
      );
    }
  }
}
