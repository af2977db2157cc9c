/**
 * A private certificate authority for tests, made with the `openssl` CLI: a CA certificate and
 * server certificates it signs, for any DNS names and IP addresses, written as PEM files into
 * a directory the caller owns (e.g. `useScratchDir` or `tempDir()`). EC P-256 keys, so making
 * one takes milliseconds. Nothing here touches the system's trust store.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface PemFile {
  /** The PEM text. */
  readonly pem: string;
  /** Where it was written. */
  readonly path: string;
}

export interface ServerCertificate {
  readonly cert: PemFile;
  readonly key: PemFile;
}

export interface IssueOptions {
  /** DNS names and IP addresses for subjectAltName; the first is also the subject CN. */
  readonly names: readonly string[];
  /** Validity in days from now (default 30); negative gives a certificate that has already expired. */
  readonly days?: number;
}

export interface TestCa {
  /** The CA certificate: what a client passes as its trusted root (`--ca`, `ca:`). */
  readonly cert: PemFile;
  /** A server certificate and key signed by this CA. */
  issue(options: IssueOptions): ServerCertificate;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new Error(
        'openssl is not installed: run scripts/setup-test-machine.sh or apt-get install openssl',
        {
          cause: err,
        },
      );
    }
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr}`, { cause: err });
  }
}

function pemFile(path: string): PemFile {
  return { pem: readFileSync(path, 'utf8'), path };
}

/** Labels file names so several CAs and certificates can share one directory. */
let counter = 0;

/** Makes a CA named `name` in `dir`. Throws saying what to install when openssl is missing. */
export function createTestCa(dir: string, name = 'Burrow Test CA'): TestCa {
  const id = `ca${++counter}`;
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${id}.key`,
      '-out',
      `${id}.pem`,
      '-days',
      '30',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const cert = pemFile(join(dir, `${id}.pem`));
  return {
    cert,
    issue: (options) => {
      const leaf = `${id}-leaf${++counter}`;
      const first = options.names[0];
      if (first === undefined) throw new Error('a certificate needs at least one name');
      const san = options.names.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
      writeFileSync(
        join(dir, `${leaf}.ext`),
        [
          `subjectAltName=${san}`,
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
        ].join('\n'),
      );
      openssl(
        ['req', '-new', ...EC_KEY, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${first}`],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${leaf}.csr`,
          '-CA',
          `${id}.pem`,
          '-CAkey',
          `${id}.key`,
          '-set_serial',
          String(Date.now() * 1000 + counter),
          '-days',
          String(options.days ?? 30),
          '-extfile',
          `${leaf}.ext`,
          '-out',
          `${leaf}.pem`,
        ],
        dir,
      );
      return { cert: pemFile(join(dir, `${leaf}.pem`)), key: pemFile(join(dir, `${leaf}.key`)) };
    },
  };
}
