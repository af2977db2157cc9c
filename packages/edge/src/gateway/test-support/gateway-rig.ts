/**
 * An in-process gateway for tests: real AgentSessions over the in-memory transport, a real
 * SQLite store, registry and binder, and raw agents that send whatever frames a test crafts
 * (many in one write, as a hostile agent would). Test-only support.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  FrameDecoder,
  FrameType,
  MAX_PAYLOAD_HARD_LIMIT,
  Session,
  TunnelError,
  createMemoryTransportPair,
  encodeFrame,
  encodeJson,
  realTimers,
  type Transport,
} from '@burrow/protocol';
import { AuthFailures } from '../../policy/auth-failures.js';
import { PolicyBook } from '../../policy/index.js';
import { MemoryRegistry } from '../../registry/memory-registry.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { AgentQuota, type QuotaLimits } from '../agent-quota.js';
import { AgentSession, type AgentSessionDeps } from '../agent-session.js';
import { TunnelBinder } from '../tunnel-binder.js';

export interface RigFrame {
  type: number;
  payload: Buffer;
}

/** One end of a session, driven by the test. */
export class RawAgent {
  readonly frames: RigFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder({
    maxPayload: MAX_PAYLOAD_HARD_LIMIT,
    onFrame: (f) => this.frames.push({ type: f.type, payload: Buffer.from(f.payload) }),
  });

  constructor(private readonly transport: Transport) {
    transport.attach({
      onData: (chunk) => this.decoder.push(chunk),
      onDrain: () => undefined,
      onClose: () => (this.closed = true),
    });
  }

  /** All `messages` in one write: the edge sees them in one chunk. */
  sendBurst(messages: readonly { type: FrameType; body: object }[]): void {
    this.transport.send(Buffer.concat(messages.map((m) => encodeFrame(m.type, 0, 0, encodeJson(m.body)))));
  }

  hello(token: string | null = null): void {
    this.sendBurst([{ type: FrameType.HELLO, body: helloBody(token) }]);
  }

  json(type: FrameType): Record<string, unknown>[] {
    return this.frames
      .filter((f) => f.type === type)
      .map((f) => JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>);
  }

  close(): void {
    this.transport.close();
  }
}

export function helloBody(token: string | null): object {
  return { versions: [1], agent: 'rig', token, window: 65536, maxFramePayload: 65536 };
}

export function bindBody(id: number, name: string | null): object {
  return { id, proto: 'http', name, resumeToken: null, policy: null, force: false };
}

export interface Rig {
  store: Store;
  registry: MemoryRegistry;
  deps: AgentSessionDeps;
  sessions: Set<AgentSession>;
  connect(): RawAgent;
  /** Serves the edge end of a transport as a real AgentSession (for FakeAgent and other peers). */
  attach(transport: Transport): AgentSession;
  close(): Promise<void>;
}

export async function startRig(
  options: {
    limits?: Partial<QuotaLimits>;
    maxTunnels?: number;
    reservedNamesPerUser?: number;
  } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-gateway-'));
  const store = await openSqliteStore({ file: join(dir, 'burrow.db') });
  const registry = new MemoryRegistry();
  const sessions = new Set<AgentSession>();
  const deps: AgentSessionDeps = {
    store,
    registry,
    binder: new TunnelBinder({ store, registry, reservedNamesPerUser: options.reservedNamesPerUser ?? 1000 }),
    policies: new PolicyBook({ clock: realTimers }),
    quota: new AgentQuota(
      { sessionsPerKey: 10, tunnelsPerKey: 50, anonymousTunnelsPerIp: 5, ...options.limits },
      () => sessions,
    ),
    keyFailures: new AuthFailures({ clock: realTimers }),
    log: pino({ level: 'silent' }),
    timers: realTimers,
    urlFor: (name) => `http://${name}.test`,
    settings: {
      allowAnonymous: true,
      anonymousRequestsPerSecond: 0,
      anonymousLifetimeMs: 0,
      handshakeMs: 10_000,
      reconnectGraceMs: 1000,
      heartbeatMs: 10_000,
      maxStreams: 100,
      maxTunnels: options.maxTunnels ?? 20,
      window: 65536,
      maxFramePayload: 65536,
    },
  };
  const agents: RawAgent[] = [];
  const attach = (edgeEnd: Transport): AgentSession => {
    const session = new Session({
      transport: edgeEnd,
      role: 'edge',
      window: 65536,
      maxFramePayload: 65536,
      maxStreams: 100,
      heartbeatMs: 10_000,
      deadPeerMs: 30_000,
      timers: realTimers,
    });
    const agent = new AgentSession(session, deps);
    sessions.add(agent);
    void agent.closed.then(() => sessions.delete(agent));
    return agent;
  };
  return {
    store,
    registry,
    deps,
    sessions,
    connect() {
      const [edgeEnd, agentEnd] = createMemoryTransportPair();
      attach(edgeEnd);
      const raw = new RawAgent(agentEnd);
      agents.push(raw);
      return raw;
    },
    attach,
    async close() {
      for (const a of agents) a.close();
      for (const s of sessions) s.destroy(new TunnelError('TUN_ERR_GOING_AWAY', 'the rig closed'));
      await Promise.all([...sessions].map((s) => s.closed));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `pred` every 10 ms until it holds; throws after `timeoutMs`. */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
