/**
 * Makes X.509 certificates: a CA and leaves it signs (ECDSA P-256, SHA-256). node:crypto
 * reads certificates but cannot create them, so this uses @peculiar/x509 over Node's
 * WebCrypto. Used by the self-signed development CA and by tests; loaded lazily by callers
 * (`await import`) so an edge without them never evaluates the library.
 */
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node has no DOM typings for WebCrypto; its webcrypto is what the library expects at run time.
x509.cryptoProvider.set(webcrypto as never);

/** A signing CA: its certificate and private key as PEM. */
export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface LeafRequest extends Partial<Validity> {
  /** DNS names (wildcards as `*.example.com`) and IP addresses for the SAN; the first is also the subject CN. */
  readonly names: readonly string[];
}

/** A 16-byte positive serial (RFC 5280 allows up to 20 octets), as hex. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

function keyPemOf(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

/** Validity from now back a minute (clock skew) to `days` ahead, unless given. */
export function validityFor(days: number, now: number = Date.now()): Validity {
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY_MS) };
}

/** A new CA that may sign leaves only (path length 0). */
export async function createCa(commonName: string, validity: Validity): Promise<CaMaterial> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: keyPemOf(keys.privateKey) };
}

/** A TLS server certificate for `names`, signed by `ca`; certPem holds the leaf only. */
export async function issueLeaf(ca: CaMaterial, request: LeafRequest): Promise<CaMaterial> {
  const [first] = request.names;
  if (first === undefined) throw new Error('a leaf certificate needs at least one name');
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await newKeys();
  const validity = { ...validityFor(90), ...request };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [first] }],
    issuer: caCert.subject,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(ca.keyPem),
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        request.names.map((value) => ({
          type: isIP(value) === 0 ? ('dns' as const) : ('ip' as const),
          value,
        })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: keyPemOf(keys.privateKey) };
}
