/**
 * The certificate of the HTTPS scenarios: one self-signed ECDSA P-256 certificate for
 * `localhost`, `*.localhost` and 127.0.0.1, made with the `openssl` CLI, served by both
 * Burrow's HTTPS listener and nginx so the two handshakes cost the same. The clients
 * (wrk, h2load) do not verify it; what is measured is the server's side of TLS.
 */

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './processes.js';

/** Why no certificate can be made here, or null. */
export function opensslMissing() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'openssl not found (apt-get install openssl)';
  }
}

/** @returns {{ cert: string, key: string }} paths of the PEM files */
export function makeBenchCertificate() {
  const dir = tempDir('burrow-bench-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
