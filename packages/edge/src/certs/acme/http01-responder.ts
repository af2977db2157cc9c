/**
 * Answers `GET /.well-known/acme-challenge/<token>` from the store, for any Host, so a CA
 * validating any name (a tunnel host, a custom domain) reaches whichever edge it lands on.
 * Never redirected to HTTPS (RFC 8555 §8.3 allows it, but the plain answer always works).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError } from '@burrow/protocol';
import { errorPageFor, sendErrorPage } from '../../ingress/error-page.js';
import type { Store } from '../../store/index.js';

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
/** base64url, as RFC 8555 §8.3 makes tokens; a bound on length keeps lookups cheap. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export type AcmeChallengeAnswer = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** The ingress's early branch: true when it answered the request. */
export function http01Responder(
  store: Pick<Store, 'getAcmeChallenge'>,
  onError: (err: unknown) => void,
): AcmeChallengeAnswer {
  return (req, res, path) => {
    if (!path.startsWith(ACME_CHALLENGE_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD'))
      return false;
    const token = path.slice(ACME_CHALLENGE_PREFIX.length).split('?')[0] ?? '';
    req.resume();
    const lookup = TOKEN.test(token) ? store.getAcmeChallenge(token) : Promise.resolve(undefined);
    lookup.then(
      (keyAuthorization) => {
        if (keyAuthorization === undefined) {
          const err = new TunnelError(
            'TUN_ERR_ACME_TOKEN_UNKNOWN',
            'no ACME challenge is pending for this token',
          );
          sendErrorPage(res, errorPageFor(err, 'Unknown ACME challenge'), req.headers.accept);
          return;
        }
        res.writeHead(200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(keyAuthorization),
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : keyAuthorization);
      },
      (err: unknown) => {
        onError(err);
        const failure = new TunnelError(
          'TUN_ERR_INTERNAL',
          'the ACME challenge could not be read from the store',
        );
        sendErrorPage(res, errorPageFor(failure, 'Internal error'), req.headers.accept);
      },
    );
    return true;
  };
}
