/**
 * The error catalog: every failure Burrow reports has a stable `code`, an HTTP status the
 * edge answers a viewer with, whether retrying may help, and the numeric code carried on
 * the wire in RESET, GOAWAY and ERROR frames. docs/errors.md lists every code (a test checks).
 */

export interface ErrorSpec {
  /** Numeric code on the wire (RESET/GOAWAY/ERROR payloads); 0 for errors that never cross it. */
  readonly wire: number;
  /** HTTP status the edge answers a viewer with when this error ends a request (3xx only for POLICY_TOKEN_REDIRECT). */
  readonly status: number;
  /** True when the same operation may succeed if tried again later. */
  readonly retryable: boolean;
  /** One line for people: what happened. */
  readonly summary: string;
}

export const ERROR_CATALOG = {
  TUN_ERR_PROTOCOL: { wire: 1, status: 502, retryable: false, summary: 'the peer broke the protocol' },
  TUN_ERR_FRAME_TOO_LARGE: {
    wire: 2,
    status: 502,
    retryable: false,
    summary: 'a frame exceeded the size limit',
  },
  TUN_ERR_UNKNOWN_FRAME_TYPE: {
    wire: 3,
    status: 502,
    retryable: false,
    summary: 'a frame of unknown type arrived',
  },
  TUN_ERR_BAD_VERSION: { wire: 4, status: 502, retryable: false, summary: 'no protocol version in common' },
  TUN_ERR_WINDOW_EXCEEDED: {
    wire: 5,
    status: 502,
    retryable: false,
    summary: 'the peer sent past its flow-control window',
  },
  TUN_ERR_STREAM_STATE: {
    wire: 6,
    status: 502,
    retryable: false,
    summary: 'a frame arrived that the stream state does not allow',
  },
  TUN_ERR_BAD_MESSAGE: { wire: 7, status: 502, retryable: false, summary: 'a control message was malformed' },
  TUN_ERR_TOO_MANY_STREAMS: {
    wire: 8,
    status: 503,
    retryable: true,
    summary: 'the session has too many open streams',
  },
  TUN_ERR_HANDSHAKE_TIMEOUT: {
    wire: 9,
    status: 502,
    retryable: true,
    summary: 'the handshake did not finish in time',
  },
  TUN_ERR_PEER_TIMEOUT: {
    wire: 10,
    status: 502,
    retryable: true,
    summary: 'the peer stopped answering keepalives',
  },
  TUN_ERR_GOING_AWAY: {
    wire: 11,
    status: 502,
    retryable: true,
    summary: 'the peer is shutting down gracefully',
  },
  TUN_ERR_UNAUTHORIZED: {
    wire: 12,
    status: 401,
    retryable: false,
    summary: 'the API key is missing, unknown or revoked',
  },
  TUN_ERR_NAME_INVALID: {
    wire: 13,
    status: 400,
    retryable: false,
    summary: 'the tunnel name is not a valid DNS label or is reserved',
  },
  TUN_ERR_NAME_TAKEN: {
    wire: 14,
    status: 409,
    retryable: false,
    summary: 'the tunnel name belongs to someone else',
  },
  TUN_ERR_NAME_IN_USE: {
    wire: 15,
    status: 409,
    retryable: true,
    summary: 'the tunnel name is bound by another live session',
  },
  TUN_ERR_NAME_REQUIRES_KEY: {
    wire: 16,
    status: 401,
    retryable: false,
    summary: 'choosing a tunnel name needs an API key',
  },
  TUN_ERR_TUNNEL_LIMIT: {
    wire: 17,
    status: 429,
    retryable: false,
    summary: 'the session has bound as many tunnels as allowed',
  },
  TUN_ERR_STREAM_CANCELLED: { wire: 18, status: 502, retryable: false, summary: 'the stream was cancelled' },
  TUN_ERR_ORIGIN_REFUSED: {
    wire: 19,
    status: 502,
    retryable: true,
    summary: 'the local service refused the connection',
  },
  TUN_ERR_ORIGIN_TIMEOUT: {
    wire: 20,
    status: 504,
    retryable: true,
    summary: 'the local service did not answer in time',
  },
  TUN_ERR_ORIGIN_ERROR: {
    wire: 21,
    status: 502,
    retryable: true,
    summary: 'the connection to the local service failed',
  },
  TUN_ERR_AGENT_OFFLINE: {
    wire: 22,
    status: 502,
    retryable: true,
    summary: 'the agent serving this tunnel is offline',
  },
  TUN_ERR_TUNNEL_NOT_FOUND: { wire: 23, status: 404, retryable: false, summary: 'no tunnel has this name' },
  TUN_ERR_HEAD_INVALID: {
    wire: 24,
    status: 502,
    retryable: false,
    summary: 'the response head from the agent was invalid',
  },
  TUN_ERR_SESSION_CLOSED: {
    wire: 25,
    status: 502,
    retryable: true,
    summary: 'the agent session closed while the request was in flight',
  },
  TUN_ERR_INTERNAL: { wire: 26, status: 500, retryable: true, summary: 'an internal error' },
  TUN_ERR_HEADERS_TOO_LARGE: {
    wire: 27,
    status: 431,
    retryable: false,
    summary: 'the request headers are too large',
  },
  TUN_ERR_PAYLOAD_TOO_LARGE: {
    wire: 28,
    status: 413,
    retryable: false,
    summary: 'the request body is too large',
  },
  TUN_ERR_BODY_TIMEOUT: {
    wire: 29,
    status: 408,
    retryable: false,
    summary: 'the request body stopped arriving',
  },
  TUN_ERR_URL_TOO_LONG: {
    wire: 30,
    status: 414,
    retryable: false,
    summary: 'the request target is too long',
  },
  TUN_ERR_SESSION_LIMIT: {
    wire: 31,
    status: 429,
    retryable: true,
    summary: 'the API key has as many live agent sessions as allowed',
  },
  TUN_ERR_AUTH_LOCKED: {
    wire: 32,
    status: 429,
    retryable: true,
    summary: 'too many failed authentication attempts from this address',
  },
  TUN_ERR_TUNNEL_EXPIRED: {
    wire: 33,
    status: 410,
    retryable: false,
    summary: 'the anonymous tunnel reached the lifetime this edge allows',
  },
  TUN_ERR_BAD_REQUEST: {
    wire: 50,
    status: 400,
    retryable: false,
    summary: 'the request head names no valid host or target',
  },
  TUN_ERR_HEAD_TOO_LARGE: {
    wire: 40,
    status: 502,
    retryable: false,
    summary: 'the response head is larger than a tunnel carries',
  },
  TUN_ERR_MALFORMED_REQUEST: {
    wire: 0,
    status: 400,
    retryable: false,
    summary: 'the request is not valid HTTP',
  },
  TUN_ERR_METHOD_NOT_ALLOWED: {
    wire: 0,
    status: 405,
    retryable: false,
    summary: 'the edge does not tunnel this method (CONNECT)',
  },
  TUN_ERR_PROTOCOL_NOT_SUPPORTED: {
    wire: 0,
    status: 501,
    retryable: false,
    summary: 'an HTTP/2 extended CONNECT asked for a protocol other than websocket',
  },
  TUN_ERR_HEAD_TIMEOUT: {
    wire: 0,
    status: 408,
    retryable: false,
    summary: 'the request head took too long to arrive',
  },
  TUN_ERR_RESPONSE_TIMEOUT: {
    wire: 45,
    status: 504,
    retryable: true,
    summary: 'the response body stopped arriving',
  },
  TUN_ERR_BODY_LENGTH: {
    wire: 46,
    status: 502,
    retryable: false,
    summary: 'the response body did not match its Content-Length',
  },
  TUN_ERR_NAME_LIMIT: {
    wire: 55,
    status: 429,
    retryable: false,
    summary: 'the user has reserved as many tunnel names as allowed',
  },
  TUN_ERR_ORIGIN_TLS: {
    wire: 56,
    status: 502,
    retryable: false,
    summary: "the local service's TLS certificate failed verification",
  },
  TUN_ERR_CONFIG_INVALID: { wire: 0, status: 500, retryable: false, summary: 'a setting is invalid' },
  TUN_ERR_CONNECT_FAILED: {
    wire: 0,
    status: 502,
    retryable: true,
    summary: 'the agent could not reach the edge',
  },
  TUN_ERR_EDGE_TLS: {
    wire: 0,
    status: 502,
    retryable: true,
    summary: "the edge's TLS certificate failed verification",
  },
  TUN_ERR_NOT_FOUND: {
    wire: 0,
    status: 404,
    retryable: false,
    summary: 'the requested resource does not exist',
  },
  TUN_ERR_FORBIDDEN: {
    wire: 0,
    status: 403,
    retryable: false,
    summary: 'the API key lacks the scope this needs',
  },
  TUN_ERR_INVALID_INPUT: {
    wire: 0,
    status: 400,
    retryable: false,
    summary: 'the API request was malformed',
  },
  // Reported by the edge's readiness endpoints only: it never crosses the agent connection.
  TUN_ERR_STORE_REPLACED: {
    wire: 0,
    status: 503,
    retryable: false,
    summary: 'the store file was deleted or replaced while the edge ran',
  },
  // ACME certificate orders (edge only): logged, kept as a certificate's last error, shown by
  // `certs list` and the API; a viewer never sees them (the handshake falls back or fails).
  TUN_ERR_REPLAY_UNAVAILABLE: {
    wire: 0,
    status: 409,
    retryable: false,
    summary:
      'the recorded request cannot be replayed as it was (not captured, cut short, an upgrade, or the tunnel changed hands)',
  },
  TUN_ERR_ACME_ORDER_FAILED: {
    wire: 0,
    status: 502,
    retryable: true,
    summary: 'an ACME certificate order failed',
  },
  TUN_ERR_ACME_RATE_LIMITED: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: "an ACME order was held back by the edge's order rate guard or refused by the CA's rate limit",
  },
  TUN_ERR_ACME_REJECTED: {
    wire: 0,
    status: 502,
    retryable: false,
    summary: 'the ACME CA refuses to issue for this name',
  },
  TUN_ERR_SEALED_KEY_INVALID: {
    wire: 0,
    status: 500,
    retryable: false,
    summary: 'a private key in the store cannot be opened with this edge secret',
  },
  // A certificate and key pair the edge was given (file, ACME, self-signed) cannot be served.
  TUN_ERR_CERT_INVALID: {
    wire: 0,
    status: 400,
    retryable: false,
    summary: 'a certificate or its private key is unusable',
  },
  // ACME DNS-01 challenge publishing (certs/dns): logged and reported with the certificate's
  // state, never sent to a viewer or an agent.
  TUN_ERR_DNS_UPDATE_FAILED: {
    wire: 0,
    status: 502,
    retryable: false,
    summary: 'the DNS server rejected or did not answer a dynamic update for an ACME challenge',
  },
  TUN_ERR_DNS_PROPAGATION_TIMEOUT: {
    wire: 0,
    status: 504,
    retryable: true,
    summary: 'an authoritative DNS server did not show the ACME challenge record in time',
  },
  TUN_ERR_DNS_HOOK_FAILED: {
    wire: 0,
    status: 502,
    retryable: false,
    summary: 'the DNS hook script failed, timed out or could not be run',
  },
  // The control API's live request streams (Server-Sent Events), counted per user.
  TUN_ERR_FEED_LIMIT: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: 'the user has as many live request streams open as allowed',
  },
  // Answers the edge gives a viewer itself, before anything reaches the agent: a tunnel's access
  // policy (POLICY_*) or an edge-wide limit (EDGE_*). Viewers and scripts already read these
  // strings in X-Burrow-Error, so they keep their names; wire 0, as they never cross to an agent.
  POLICY_IP_DENIED: {
    wire: 0,
    status: 403,
    retryable: false,
    summary: "the tunnel's IP rules refuse the viewer's address",
  },
  POLICY_RATE_LIMITED: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: "the viewer's address sent more requests than the tunnel's rate limit",
  },
  POLICY_AUTH_REQUIRED: {
    wire: 0,
    status: 401,
    retryable: false,
    summary: 'the tunnel needs credentials and the request had none',
  },
  POLICY_AUTH_INVALID: {
    wire: 0,
    status: 401,
    retryable: false,
    summary: 'the credentials sent are not accepted by this tunnel',
  },
  POLICY_AUTH_LOCKED: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: 'too many wrong credentials from this address',
  },
  // Not a failure: the only code answered with a redirect (302), kept here so every code the
  // edge puts in X-Burrow-Error has one definition.
  POLICY_TOKEN_REDIRECT: {
    wire: 0,
    status: 302,
    retryable: false,
    summary: 'the token in the URL became a cookie; follow the redirect',
  },
  EDGE_RATE_LIMITED: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: "the viewer's address sent more requests per second than the edge allows",
  },
  EDGE_TOO_MANY_CONNECTIONS: {
    wire: 0,
    status: 429,
    retryable: true,
    summary: "the viewer's address holds as many open connections as the edge allows",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The codes a tunnel's access policy answers with. */
export type PolicyErrorCode = Extract<ErrorCode, `POLICY_${string}`>;

const BY_WIRE = new Map<number, ErrorCode>(
  (Object.keys(ERROR_CATALOG) as ErrorCode[])
    .filter((code) => ERROR_CATALOG[code].wire !== 0)
    .map((code) => [ERROR_CATALOG[code].wire, code]),
);

/** Every Burrow failure: branch on `code` or `instanceof`, never on the message. */
export class TunnelError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly wire: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ERROR_CATALOG[code];
    super(message ?? spec.summary, options);
    this.name = 'TunnelError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.wire = spec.wire;
  }

  /** The error a numeric wire code stands for; unknown numbers map to TUN_ERR_PROTOCOL. */
  static fromWire(wire: number, message?: string): TunnelError {
    return new TunnelError(BY_WIRE.get(wire) ?? 'TUN_ERR_PROTOCOL', message);
  }
}

/** Wraps anything thrown into a TunnelError, keeping the original as `cause`. */
export function toTunnelError(err: unknown, fallback: ErrorCode = 'TUN_ERR_INTERNAL'): TunnelError {
  if (err instanceof TunnelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TunnelError(fallback, message, { cause: err });
}
