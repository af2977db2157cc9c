/**
 * One connection attempt: dial the edge, run the session over it, handshake, bind every
 * tunnel. Either everything succeeded and the caller owns a serving session, or the session
 * is destroyed and the attempt rejects with a TunnelError saying which step failed.
 */

import { Session, toTunnelError, type HelloAck, type MuxStream, type Timers } from '@burrow/protocol';
import type { EdgeDialer } from './edge-dialer.js';
import { handshake } from './handshake.js';
import { bindTunnels, type BoundTunnel, type TunnelBinding } from './tunnel-binder.js';

/** Session limits the agent offers the edge. */
export const AGENT_SESSION_LIMITS = {
  /** Receive window per stream, bytes: bounds what one request can make the agent buffer. */
  window: 4 * 1024 * 1024,
  maxFramePayload: 256 * 1024,
  maxStreams: 1000,
  heartbeatMs: 10_000,
  deadPeerMs: 30_000,
} as const;

export const AGENT_NAME = 'burrow/0.1.0';

export interface ConnectOptions {
  readonly server: URL;
  /** Extra CAs for an https edge (AgentConfig.ca). */
  readonly ca: string | null;
  readonly token: string | null;
  readonly bindings: readonly TunnelBinding[];
  readonly dial: EdgeDialer;
  readonly timers: Timers;
  /** Budget for each of: dial, handshake, bind; in ms. */
  readonly stepTimeoutMs: number;
  readonly signal: AbortSignal;
  /** Serves every stream the edge opens on the new session. */
  readonly serve: (stream: MuxStream) => void;
  /** Called as each tunnel is bound (see BindOptions.onBound). */
  readonly onBound?: (binding: TunnelBinding, name: string) => void;
}

export interface ConnectedSession {
  readonly session: Session;
  readonly hello: HelloAck;
  readonly tunnels: BoundTunnel[];
}

/** Rejects with a TunnelError; TUN_ERR_CONNECT_FAILED when the edge could not be reached at all. */
export async function connectSession(options: ConnectOptions): Promise<ConnectedSession> {
  const limits = AGENT_SESSION_LIMITS;
  const transport = await options.dial({
    server: options.server,
    maxFramePayload: limits.maxFramePayload,
    signal: options.signal,
    timeoutMs: options.stepTimeoutMs,
    ca: options.ca,
  });
  const session = new Session({ role: 'agent', transport, timers: options.timers, ...limits });
  // Served from the start: a name's route is added the moment its BIND_ACK arrives, and the
  // edge may open a stream for it in the next frame. Unknown names are refused by the forwarder.
  session.on('stream', options.serve);
  try {
    const step = { timers: options.timers, timeoutMs: options.stepTimeoutMs, signal: options.signal };
    const hello = await handshake(session, {
      ...step,
      token: options.token,
      agent: AGENT_NAME,
      window: limits.window,
      maxFramePayload: limits.maxFramePayload,
    });
    const tunnels = await bindTunnels(session, options.bindings, { ...step, onBound: options.onBound });
    return { session, hello, tunnels };
  } catch (err) {
    session.destroy();
    throw toTunnelError(err, 'TUN_ERR_CONNECT_FAILED');
  }
}
