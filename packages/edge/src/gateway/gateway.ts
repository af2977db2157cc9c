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
import { clientAddressOf } from '../listeners/client-address.js';
import { clientKey, parseIp } from '../policy/cidr.js';
import { AuthFailures } from '../policy/auth-failures.js';
import { AgentQuota, type QuotaLimits } from './agent-quota.js';
import { AgentSession, type AgentSessionDeps } from './agent-session.js';
import { writeRawResponse } from '../ingress/raw-response.js';

export const AGENT_PATH = '/_burrow/connect';

/** How often live sessions are checked against disabled users: "at once" within this bound. */
const USER_CHECK_INTERVAL_MS = 2000;

export interface GatewayOptions extends Omit<AgentSessionDeps, 'quota' | 'keyFailures'> {
  /** Wrong-key counts per address; shared with the control API so guesses add up across both. */
  keyFailures?: AuthFailures;
  deadPeerMs: number;
  quotaLimits: QuotaLimits;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly options: GatewayOptions;
  private readonly deps: AgentSessionDeps;
  private closing = false;
  private readonly userCheck: unknown;
  private checkingUsers = false;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.deps = {
      ...options,
      quota: new AgentQuota(options.quotaLimits, () => this.sessions),
      keyFailures: options.keyFailures ?? new AuthFailures({ clock: options.timers }),
    };
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: websocketMaxPayload(options.settings.maxFramePayload),
      handleProtocols: (offered) => (offered.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
    });
    this.userCheck = options.timers.setInterval(() => {
      if (this.checkingUsers || this.sessions.size === 0) return;
      this.checkingUsers = true;
      this.evictDisabledUsers()
        .catch((err: unknown) => options.log.error({ err }, 'checking for disabled users failed'))
        .finally(() => (this.checkingUsers = false));
    }, USER_CHECK_INTERVAL_MS);
  }

  /** A policy stored through the control API takes effect on the live binding of `name`, if any. */
  applyStoredPolicy(name: string, stored: Record<string, unknown> | null, ownerUserId: string | null): void {
    for (const s of this.sessions) s.applyStoredPolicy(name, stored, ownerUserId);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Streams open across every session; walks the sessions, so for scrapes, not per request. */
  get streamCount(): number {
    let streams = 0;
    for (const s of this.sessions) streams += s.streamCount;
    return streams;
  }

  /**
   * Closes the sessions of users who were disabled since they connected (an admin ran
   * `burrow-edge users disable`, possibly from another process on the same database).
   */
  async evictDisabledUsers(): Promise<number> {
    const byUser = new Map<string, AgentSession[]>();
    for (const s of this.sessions) {
      if (s.userId === null) continue;
      byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    }
    let evicted = 0;
    for (const [userId, sessions] of byUser) {
      if (await this.options.store.isUserActive(userId)) continue;
      const reason = new TunnelError('TUN_ERR_UNAUTHORIZED', 'your user was disabled on this edge');
      for (const s of sessions) s.evict(reason);
      evicted += sessions.length;
    }
    return evicted;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const address = clientAddressOf(req);
    const lockout = this.deps.keyFailures.check(clientKey(parseIp(address), address));
    if (!lockout.ok) {
      writeRawResponse(
        socket,
        429,
        `too many wrong API keys from your address (TUN_ERR_AUTH_LOCKED); try again in ${lockout.retryAfterSeconds} s\n`,
        ['Retry-After', String(lockout.retryAfterSeconds), 'X-Burrow-Error', 'TUN_ERR_AUTH_LOCKED'],
      );
      return;
    }
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
    const transport = new WebSocketTransport(ws, {
      remoteAddress: clientAddressOf(req) || 'unknown',
      socket: req.socket,
    });
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
    const agent = new AgentSession(session, this.deps);
    this.sessions.add(agent);
    void agent.closed.then(() => this.sessions.delete(agent));
  }

  /** GOAWAY to every agent; in-flight requests get up to `timeoutMs` to finish. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.options.timers.clearInterval(this.userCheck);
    const reason = new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is restarting');
    await Promise.all([...this.sessions].map((s) => s.close(timeoutMs, reason)));
    this.wss.close();
  }

  /** Resolves once every current session has finished closing (its end is recorded). */
  settled(): Promise<void> {
    return Promise.all([...this.sessions].map((s) => s.closed)).then(() => undefined);
  }

  destroy(): void {
    this.closing = true;
    this.options.timers.clearInterval(this.userCheck);
    const reason = new TunnelError('TUN_ERR_GOING_AWAY', 'the edge stopped');
    for (const s of this.sessions) s.destroy(reason);
    this.wss.close();
  }
}
