/**
 * Answers `GET /.well-known/acme-challenge/<token>` from the store when the token is one of
 * the edge's (any edge sharing the store), for any Host, so a CA validating any name (a
 * tunnel host, a custom domain) reaches whichever edge it lands on. Every other token goes
 * on to routing (`next`): an origin running its own ACME client through its tunnel
 * (Caddy, certbot) must get its own challenges. Never redirected to HTTPS (RFC 8555 §8.3
 * allows it, but the plain answer always works).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError } from '@burrow/protocol';
import { errorPageFor, sendErrorPage } from '../../ingress/error-page.js';
import { viewerGone } from '../../ingress/http2-request.js';
import type { Store } from '../../store/index.js';

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
/** base64url, as RFC 8555 §8.3 makes tokens; a bound on length keeps lookups cheap. */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** True when it took the request: answered it, or will hand it to `next` after the lookup. */
export type AcmeChallengeAnswer = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  next: () => void,
) => boolean;

/** The ingress's early branch. */
export function http01Responder(
  store: Pick<Store, 'getAcmeChallenge'>,
  onError: (err: unknown) => void,
): AcmeChallengeAnswer {
  return (req, res, path, next) => {
    if (!path.startsWith(ACME_CHALLENGE_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD'))
      return false;
    const token = path.slice(ACME_CHALLENGE_PREFIX.length).split('?')[0] ?? '';
    // Not a token the edge could have made: routing, without a store read.
    if (!TOKEN.test(token)) return false;
    store
      .getAcmeChallenge(token)
      .then(
        (keyAuthorization) => {
          // The viewer left while the lookup ran: answer nothing.
          if (viewerGone(res)) return;
          if (keyAuthorization === undefined) {
            next();
            return;
          }
          req.resume();
          res.writeHead(200, {
            'Content-Type': 'text/plain; charset=utf-8',
            'Content-Length': Buffer.byteLength(keyAuthorization),
            'Cache-Control': 'no-store',
          });
          res.end(req.method === 'HEAD' ? undefined : keyAuthorization);
        },
        (err: unknown) => {
          onError(err);
          if (viewerGone(res)) return;
          req.resume();
          const failure = new TunnelError(
            'TUN_ERR_INTERNAL',
            'the ACME challenge could not be read from the store',
          );
          sendErrorPage(res, errorPageFor(failure, 'Internal error'), req.headers.accept);
        },
      )
      // A throw from routing or the error page must not become an unhandled rejection.
      .catch(onError);
    return true;
  };
}
