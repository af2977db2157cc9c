/**
 * Private keys at rest: AES-256-GCM under a key derived (HKDF-SHA256) from the edge secret,
 * a random 96-bit nonce per seal. The text is `v1.<nonce>.<ciphertext+tag>` (base64url), so a
 * stored key says how it was sealed and a copied database alone reveals no key. Edges sharing
 * a store must share `edge.secret`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
// A distinct key for this use: the edge secret also signs cookies and tunnel credentials.
const INFO = 'burrow key seal v1';

export class KeySeal {
  readonly #key: Buffer;

  constructor(edgeSecret: Uint8Array) {
    this.#key = Buffer.from(hkdfSync('sha256', edgeSecret, Buffer.alloc(0), INFO, 32));
  }

  seal(plain: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The sealed text opened; TUN_ERR_SEALED_KEY_INVALID when it is not ours or was altered. */
  open(sealed: string): string {
    const [version, nonceText, bodyText] = sealed.split('.');
    const nonce = Buffer.from(nonceText ?? '', 'base64url');
    const body = Buffer.from(bodyText ?? '', 'base64url');
    if (version !== VERSION || nonce.length !== NONCE_BYTES || body.length <= TAG_BYTES) throw invalid();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (err) {
      throw invalid(err);
    }
  }
}

function invalid(cause?: unknown): TunnelError {
  return new TunnelError(
    'TUN_ERR_SEALED_KEY_INVALID',
    'a private key in the store cannot be opened with this edge secret: edges sharing a store need the same edge.secret (in the data directory)',
    { cause },
  );
}
