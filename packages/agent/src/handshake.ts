/**
 * The agent's half of the handshake: HELLO out, then HELLO_ACK (limits applied to the
 * session) or ERROR (the edge's refusal as a TunnelError, e.g. TUN_ERR_UNAUTHORIZED).
 */

import {
  FrameType,
  SUPPORTED_VERSIONS,
  TunnelError,
  decodeErrorMessage,
  decodeHelloAck,
  type Hello,
  type HelloAck,
  type Session,
  type Timers,
} from '@burrow/protocol';
import { awaitControl } from './control-exchange.js';

export interface HandshakeOptions {
  /** API key, or null for an anonymous session. */
  readonly token: string | null;
  /** "burrow/0.1.0"; informational for the edge. */
  readonly agent: string;
  /** Receive window per stream we grant the edge, in bytes (the session's own). */
  readonly window: number;
  /** Largest frame payload we accept, in bytes (the session's own). */
  readonly maxFramePayload: number;
  readonly timeoutMs: number;
  readonly timers: Timers;
  readonly signal: AbortSignal;
}

/** Sends HELLO and resolves with the HELLO_ACK once the peer limits are applied to `session`. */
export function handshake(session: Session, options: HandshakeOptions): Promise<HelloAck> {
  const reply = awaitControl<HelloAck>(session, {
    timers: options.timers,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    what: 'the handshake',
    timeoutError: () =>
      new TunnelError(
        'TUN_ERR_HANDSHAKE_TIMEOUT',
        `the edge did not answer HELLO within ${options.timeoutMs} ms`,
      ),
    onControl: (type, payload) => {
      if (type === FrameType.ERROR) {
        const message = decodeErrorMessage(payload);
        throw TunnelError.fromWire(message.code, message.message);
      }
      if (type !== FrameType.HELLO_ACK) {
        throw new TunnelError('TUN_ERR_PROTOCOL', `expected HELLO_ACK, the edge sent control frame ${type}`);
      }
      const ack = decodeHelloAck(payload);
      if (!SUPPORTED_VERSIONS.includes(ack.version)) {
        throw new TunnelError(
          'TUN_ERR_BAD_VERSION',
          `the edge chose protocol version ${ack.version}, this agent speaks ${SUPPORTED_VERSIONS.join(', ')}`,
        );
      }
      session.setPeerLimits({ window: ack.window, maxFramePayload: ack.maxFramePayload });
      return ack;
    },
  });
  const hello: Hello = {
    versions: [...SUPPORTED_VERSIONS],
    agent: options.agent,
    token: options.token,
    window: options.window,
    maxFramePayload: options.maxFramePayload,
  };
  session.sendControl(FrameType.HELLO, hello);
  return reply;
}
