/**
 * The agent endpoint: WebSocket upgrades on `/_burrow/connect` become sessions. The
 * subprotocol is checked before the upgrade, so a client speaking something else gets a
 * readable 400 instead of a session that fails on its first frame.
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  Session,
  TunnelError,
  WEBSOCKET_SUBPROTOCOL,
  WebSocketTransport,
  websocketMaxPayload,
} from '@burrow/protocol';
import { AgentSession, type AgentSessionDeps } from './agent-session.js';
import { writeRawResponse } from '../ingress/raw-response.js';

export const AGENT_PATH = '/_burrow/connect';

export interface GatewayOptions extends AgentSessionDeps {
  deadPeerMs: number;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly options: GatewayOptions;
  private closing = false;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: websocketMaxPayload(options.settings.maxFramePayload),
      handleProtocols: (offered) => (offered.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (this.closing) {
      writeRawResponse(socket, 503, 'the edge is shutting down; reconnect shortly\n');
      return;
    }
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || !offered.includes(WEBSOCKET_SUBPROTOCOL)) {
      writeRawResponse(
        socket,
        400,
        `this endpoint is for burrow agents: a WebSocket with subprotocol ${WEBSOCKET_SUBPROTOCOL}\n`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const { settings } = this.options;
    const transport = new WebSocketTransport(ws, { remoteAddress: req.socket.remoteAddress ?? 'unknown' });
    const session = new Session({
      transport,
      role: 'edge',
      window: settings.window,
      maxFramePayload: settings.maxFramePayload,
      maxStreams: settings.maxStreams,
      heartbeatMs: settings.heartbeatMs,
      deadPeerMs: this.options.deadPeerMs,
      timers: this.options.timers,
    });
    const agent = new AgentSession(session, this.options);
    this.sessions.add(agent);
    void agent.closed.then(() => this.sessions.delete(agent));
  }

  /** GOAWAY to every agent; in-flight requests get up to `timeoutMs` to finish. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const reason = new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is restarting');
    await Promise.all([...this.sessions].map((s) => s.close(timeoutMs, reason)));
    this.wss.close();
  }

  destroy(): void {
    this.closing = true;
    const reason = new TunnelError('TUN_ERR_GOING_AWAY', 'the edge stopped');
    for (const s of this.sessions) s.destroy(reason);
    this.wss.close();
  }
}
