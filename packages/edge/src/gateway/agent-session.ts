/**
 * One connected agent as the edge sees it: the handshake, its BINDs, and what happens to
 * its names when it leaves. A session that says GOAWAY (agent shutting down or restarting)
 * gives up its names at once, so new requests wait for its successor instead of landing
 * on a session that is about to close; in-flight requests finish on it.
 */

import { randomUUID } from 'node:crypto';
import {
  FrameType,
  TunnelError,
  decodeBind,
  decodeHello,
  decodeUnbind,
  errorMessageOf,
  negotiateVersion,
  toTunnelError,
  type BindAck,
  type ControlType,
  type HelloAck,
  type MuxStream,
  type Session,
  type Timers,
} from '@burrow/protocol';
import type { Logger } from '../logger.js';
import { beginKeyAttempt, refuseWrongKey, type AuthFailures } from '../policy/auth-failures.js';
import { clientKey, parseIp } from '../policy/cidr.js';
import { overlayPolicies, parsePolicySpec, type PolicyBook } from '../policy/index.js';
import { scopeAllows } from '../store/index.js';
import type { Registry, TunnelTarget } from '../registry/registry.js';
import type { Store } from '../store/index.js';
import type { AgentQuota, QuotaSubject } from './agent-quota.js';
import { HeldSlots } from './held-slots.js';
import type { TunnelBinder } from './tunnel-binder.js';

export interface AgentSessionDeps {
  store: Store;
  registry: Registry;
  binder: TunnelBinder;
  /** Compiled per-tunnel policies, keyed by name; ingress reads them. */
  policies: PolicyBook;
  /** Sessions per key, tunnels per key, anonymous tunnels per address. */
  quota: AgentQuota;
  /** Wrong API keys per client address: slowed down, then locked out. */
  keyFailures: AuthFailures;
  log: Logger;
  timers: Timers;
  /** The public URL for a tunnel name. */
  urlFor(name: string): string;
  settings: {
    allowAnonymous: boolean;
    /** Per-address requests per second for anonymous tunnels without their own rate; 0 = off. */
    anonymousRequestsPerSecond: number;
    /** How long an anonymous tunnel may live, counted from when its name was first claimed; 0 = no limit. */
    anonymousLifetimeMs: number;
    handshakeMs: number;
    reconnectGraceMs: number;
    heartbeatMs: number;
    maxStreams: number;
    maxTunnels: number;
    window: number;
    maxFramePayload: number;
  };
}

type State = 'handshaking' | 'ready' | 'draining' | 'closed';

export class AgentSession implements TunnelTarget, QuotaSubject {
  readonly sessionId = randomUUID();
  private state: State = 'handshaking';
  /** Set on the first HELLO, before any await: a second one in the same burst is a protocol error. */
  private helloSeen = false;
  private key: string | null = null;
  private userIdValue: string | null = null;
  /** Bound names, each with the policy the agent asked for in its BIND (before the stored one is laid under it). */
  private readonly names = new Map<string, Record<string, unknown> | null>();
  /** BINDs in flight: counted as tunnels by every quota until they end. */
  private readonly bindSlots = new HeldSlots();
  private readonly session: Session;
  private readonly deps: AgentSessionDeps;
  private readonly log: Logger;
  private readonly handshakeTimer: unknown;
  private recorded = false;
  /** Anonymous sessions end at this time (epoch ms); Infinity when there is no lifetime. */
  private expiresAt = Number.POSITIVE_INFINITY;
  private expiryTimer: unknown = null;
  /** Why we refused the agent, recorded as the session's end reason. */
  private refusal: TunnelError | null = null;
  private readonly closedPromise: Promise<void>;

  constructor(session: Session, deps: AgentSessionDeps) {
    this.session = session;
    this.deps = deps;
    this.log = deps.log.child({ session: this.sessionId, remote: session.remoteAddress });
    this.clientKey = clientKey(parseIp(session.remoteAddress), session.remoteAddress);
    this.handshakeTimer = deps.timers.setTimeout(() => {
      if (this.state === 'handshaking') {
        this.refuse(
          new TunnelError('TUN_ERR_HANDSHAKE_TIMEOUT', `no HELLO within ${deps.settings.handshakeMs} ms`),
        );
      }
    }, deps.settings.handshakeMs);
    session.on('control', (type, payload) => this.onControl(type, payload));
    session.on('goaway', () => this.drain());
    this.closedPromise = new Promise((resolve) => {
      session.on('close', (err) => {
        void this.onClose(err).finally(resolve);
      });
    });
  }

  /** The client address as limits count it (IPv4, or the IPv6 /64). */
  readonly clientKey: string;

  get keyId(): string | null {
    return this.key;
  }

  get anonymous(): boolean {
    return this.key === null;
  }

  /** Streams open on this session (requests and upgrades in flight). */
  get streamCount(): number {
    return this.session.streamCount;
  }

  get tunnelCount(): number {
    return this.names.size + this.bindSlots.count;
  }

  get live(): boolean {
    return this.state !== 'closed';
  }

  /** The user whose key opened the session; null for anonymous sessions. */
  get userId(): string | null {
    return this.userIdValue;
  }

  /**
   * The owner stored a new policy for `name` (control API): if this session of that owner
   * serves it, the new policy applies from the next request, under the agent's own fields.
   */
  applyStoredPolicy(name: string, stored: Record<string, unknown> | null, ownerUserId: string | null): void {
    // Only the owner's own session: a released name may still be served by its old holder.
    if (!this.names.has(name) || this.state === 'closed' || this.userIdValue !== ownerUserId) return;
    this.deps.policies.set(name, overlayPolicies(stored, this.names.get(name) ?? null));
  }

  displaced(name: string): void {
    if (!this.names.delete(name)) return;
    this.log.info({ tunnel: name }, 'tunnel taken over by another session');
    // A session left serving nothing is the stale one the owner replaced: close it, saying why.
    if (this.names.size === 0 && this.state === 'ready') {
      this.refuse(
        new TunnelError(
          'TUN_ERR_NAME_IN_USE',
          `"${name}" was taken over by another session of the same owner (a reconnect or --force)`,
        ),
      );
    }
  }

  /** Closes the session at once because its user may no longer use the edge. */
  evict(reason: TunnelError): void {
    this.log.info({ code: reason.code }, 'evicting agent session');
    this.refuse(reason);
  }

  get accepting(): boolean {
    return this.state === 'ready' && !this.session.goingAway;
  }

  /** Resolves once the session is closed and its records are written. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  openStream(): MuxStream {
    return this.session.openStream();
  }

  /** Graceful: GOAWAY, let in-flight requests finish (bounded), then close. */
  async close(timeoutMs: number, reason: TunnelError): Promise<void> {
    this.drain();
    await this.session.close(timeoutMs, reason);
    await this.closedPromise;
  }

  destroy(reason: TunnelError): void {
    this.session.destroy(reason);
  }

  private onControl(type: ControlType, payload: Buffer): void {
    const handle = async (): Promise<void> => {
      switch (type) {
        case FrameType.HELLO:
          return this.onHello(payload);
        case FrameType.BIND:
          return this.onBind(payload);
        case FrameType.UNBIND:
          return this.onUnbind(payload);
        case FrameType.ERROR:
          this.log.warn({ error: payload.toString('utf8').slice(0, 500) }, 'agent reported an error');
          return;
        default:
          throw new TunnelError('TUN_ERR_PROTOCOL', `agents may not send frame type ${type}`);
      }
    };
    handle().catch((err: unknown) => {
      const error = toTunnelError(err, 'TUN_ERR_PROTOCOL');
      this.log.warn({ code: error.code, err: error.message }, 'closing agent session');
      this.refuse(error);
    });
  }

  private async onHello(payload: Buffer): Promise<void> {
    if (this.helloSeen || this.state !== 'handshaking') {
      throw new TunnelError('TUN_ERR_PROTOCOL', 'HELLO sent twice');
    }
    this.helloSeen = true;
    const hello = decodeHello(payload);
    const version = negotiateVersion(hello.versions);
    const { settings } = this.deps;
    if (hello.token !== null) {
      // Counted before the store is asked, so parallel HELLOs cannot all slip past the lockout.
      const attempt = await beginKeyAttempt(this.deps.keyFailures, this.clientKey);
      const key = await this.deps.store.verifyApiKey(hello.token).catch((err: unknown) => {
        // A store failure is not a wrong key: the attempt does not count.
        attempt.succeeded();
        throw err;
      });
      if (!key) {
        // Guessing keys gets slower with each miss, then the address is locked out (see Gateway).
        throw await refuseWrongKey(attempt, this.deps.timers);
      }
      attempt.succeeded();
      if (!scopeAllows(key.scopes, 'agent')) {
        throw new TunnelError(
          'TUN_ERR_UNAUTHORIZED',
          `this API key has scopes ${key.scopes.join(',')}; binding tunnels needs the agent scope (burrow-edge keys create --scope agent)`,
        );
      }
      this.deps.quota.admitSession(this, key.id);
      this.key = key.id;
      this.userIdValue = key.user.id;
    } else if (!settings.allowAnonymous) {
      throw new TunnelError(
        'TUN_ERR_UNAUTHORIZED',
        'this edge requires an API key; pass --token or set BURROW_TOKEN',
      );
    }
    if (this.state !== 'handshaking') return;
    this.deps.timers.clearTimeout(this.handshakeTimer);
    this.session.setPeerLimits({ window: hello.window, maxFramePayload: hello.maxFramePayload });
    await this.deps.store.recordSessionStart({
      id: this.sessionId,
      keyId: this.key,
      agent: hello.agent,
      remoteAddress: this.session.remoteAddress,
    });
    this.recorded = true;
    if (this.state !== 'handshaking') {
      // It closed while the store answered: onClose ran before there was a start to end.
      await this.deps.store.recordSessionEnd(this.sessionId, this.refusal?.code ?? 'closed');
      return;
    }
    this.state = 'ready';
    if (this.key === null && settings.anonymousLifetimeMs > 0) {
      this.expireAt(this.deps.timers.now() + settings.anonymousLifetimeMs);
    }
    const ack: HelloAck = {
      version,
      sessionId: this.sessionId,
      window: settings.window,
      maxFramePayload: settings.maxFramePayload,
      heartbeatMs: settings.heartbeatMs,
      maxStreams: settings.maxStreams,
      maxTunnels: settings.maxTunnels,
    };
    this.session.sendControl(FrameType.HELLO_ACK, ack);
    this.log.info({ agent: hello.agent, keyId: this.key }, 'agent connected');
  }

  private async onBind(payload: Buffer): Promise<void> {
    if (this.state === 'handshaking') throw new TunnelError('TUN_ERR_PROTOCOL', 'BIND before HELLO');
    const bind = decodeBind(payload);
    let releaseSlot = (): void => undefined;
    try {
      if (this.state !== 'ready') throw new TunnelError('TUN_ERR_GOING_AWAY', 'the session is closing');
      // Checked and counted before the first await: the next BIND of a burst sees this one.
      releaseSlot = this.deps.quota.reserveTunnel(this, this.bindSlots, this.deps.settings.maxTunnels);
      const policy = this.effectivePolicy(bind.policy);
      // Validated before the name is taken, so a bad policy refuses the BIND naming the field.
      if (policy !== null) parsePolicySpec(policy);
      const request = {
        name: bind.name,
        resumeToken: bind.resumeToken,
        keyId: this.key,
        userId: this.userIdValue,
        force: bind.force,
      };
      const result = await this.deps.binder.bind(
        request,
        this,
        ({ name, resumeToken, storedPolicy, createdAt }) => {
          this.limitLifetime(name, createdAt);
          const url = this.deps.urlFor(name);
          // Before the name goes live: no request may slip through without its policy.
          this.deps.policies.set(name, overlayPolicies(storedPolicy, policy));
          // The slot becomes the bound name in one step, so the count never dips or doubles.
          releaseSlot();
          this.names.set(name, policy);
          this.sendBindAck({ id: bind.id, ok: true, name, url, resumeToken });
          this.log.info({ tunnel: name, url }, 'tunnel bound');
        },
      );
      if (this.state !== 'ready') {
        // The session went away while the store answered: give the name back.
        this.deps.registry.unbind(result.name, this, this.graceUntil());
      }
    } catch (err) {
      const error = toTunnelError(err);
      this.log.info({ code: error.code, wanted: bind.name }, 'bind refused');
      this.sendBindAck({ id: bind.id, ok: false, code: error.code, message: error.message });
    } finally {
      releaseSlot();
    }
  }

  /**
   * An anonymous session resuming a name lives no longer than the name's own lifetime, so
   * reconnecting never extends a temporary URL. Throws TUN_ERR_TUNNEL_EXPIRED when it is over.
   */
  private limitLifetime(name: string, createdAt: Date): void {
    const lifetime = this.deps.settings.anonymousLifetimeMs;
    if (this.key !== null || lifetime === 0) return;
    const end = createdAt.getTime() + lifetime;
    if (end <= this.deps.timers.now()) throw this.expiredError(name);
    if (end < this.expiresAt) this.expireAt(end);
  }

  private expireAt(at: number): void {
    // A session that closed while the store answered must not leave a timer behind.
    if (this.state === 'closed') return;
    this.expiresAt = at;
    this.deps.timers.clearTimeout(this.expiryTimer);
    const delay = Math.max(0, at - this.deps.timers.now());
    this.expiryTimer = this.deps.timers.setTimeout(() => {
      if (this.state !== 'ready' && this.state !== 'draining') return;
      const err = this.expiredError([...this.names.keys()].join(', ') || 'this session');
      this.log.info({ code: err.code, tunnels: [...this.names.keys()] }, 'anonymous tunnel lifetime over');
      this.refuse(err);
    }, delay);
  }

  private expiredError(what: string): TunnelError {
    const ms = this.deps.settings.anonymousLifetimeMs;
    const lifetime =
      ms >= 3_600_000
        ? `${Math.round(ms / 360_000) / 10} h`
        : ms >= 60_000
          ? `${Math.round(ms / 60_000)} min`
          : `${Math.round(ms / 100) / 10} s`;
    return new TunnelError(
      'TUN_ERR_TUNNEL_EXPIRED',
      `anonymous tunnels last at most ${lifetime} on this edge and ${what} reached it; run burrow again for a new URL, or use an API key (--token) for tunnels without a time limit`,
    );
  }

  /** Anonymous tunnels get the edge's per-address request rate unless they set their own. */
  private effectivePolicy(asked: Record<string, unknown> | null): Record<string, unknown> | null {
    const rate = this.deps.settings.anonymousRequestsPerSecond;
    if (this.key !== null || rate === 0 || asked?.rateLimit !== undefined) return asked;
    return { ...asked, rateLimit: `${rate}/s` };
  }

  private sendBindAck(ack: BindAck): void {
    this.session.sendControl(FrameType.BIND_ACK, ack);
  }

  private async onUnbind(payload: Buffer): Promise<void> {
    const { name } = decodeUnbind(payload);
    if (!this.names.delete(name)) return;
    this.deps.registry.unbind(name, this, 0);
    // This session stays open: a crash now must not give the name reconnect grace.
    try {
      await this.deps.store.releaseTunnelHolder(name, this.sessionId);
    } catch (err) {
      this.log.error({ err, tunnel: name }, 'could not record that the tunnel was unbound');
    }
  }

  /** Stops routing new requests here; names wait for the agent's next session. */
  private drain(): void {
    if (this.state !== 'ready') return;
    this.state = 'draining';
    this.releaseNames();
  }

  private releaseNames(): void {
    // An expired tunnel is not coming back: viewers get their answer now, not after the grace.
    const until = this.expiresAt <= this.deps.timers.now() ? 0 : this.graceUntil();
    for (const name of this.names.keys()) this.deps.registry.unbind(name, this, until);
  }

  private graceUntil(): number {
    return this.deps.timers.now() + this.deps.settings.reconnectGraceMs;
  }

  /** Tells the agent why (ERROR), then closes. */
  private refuse(err: TunnelError): void {
    if (this.session.isClosed) return;
    this.refusal = err;
    this.session.sendControl(FrameType.ERROR, errorMessageOf(err));
    void this.session.close(0, err);
  }

  private async onClose(err: TunnelError | undefined): Promise<void> {
    this.deps.timers.clearTimeout(this.handshakeTimer);
    this.deps.timers.clearTimeout(this.expiryTimer);
    const wasLive = this.state === 'ready' || this.state === 'draining';
    this.state = 'closed';
    this.releaseNames();
    const reason = err?.code ?? this.refusal?.code ?? 'closed';
    if (wasLive) this.log.info({ reason, tunnels: [...this.names.keys()] }, 'agent disconnected');
    try {
      await Promise.all([...this.names.keys()].map((name) => this.deps.store.touchTunnel(name)));
      if (this.recorded) await this.deps.store.recordSessionEnd(this.sessionId, reason);
    } catch (storeErr) {
      this.log.error({ err: storeErr }, 'could not record the end of a session');
    }
  }
}
