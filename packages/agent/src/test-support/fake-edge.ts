/**
 * A scriptable stand-in for the edge, over in-memory transports: its `dial` plugs into
 * startAgent, and each connection becomes an edge-role Session that answers HELLO and BIND
 * the way a test says. For agent tests (and agent-only benchmarks); not used in production.
 */

import {
  FrameType,
  PROTOCOL_VERSION,
  Session,
  TunnelError,
  createMemoryTransportPair,
  decodeBind,
  decodeHello,
  errorMessageOf,
  type Bind,
  type BindAck,
  type Hello,
  type HelloAck,
  type Transport,
} from '@burrow/protocol';
import type { EdgeDialer } from '../edge-dialer.js';

export interface FakeEdgeScript {
  /** Answer to HELLO: accept (default) or refuse with an error sent as ERROR. */
  hello?: (hello: Hello, connection: number) => 'accept' | TunnelError;
  /** Answer to BIND; default: ok, name = wanted name or `tmp<connection>`, url from the name. */
  bind?: (bind: Bind, connection: number) => BindAck;
  /** Throw from dial instead of connecting (e.g. connection refused), per connection number. */
  refuse?: (connection: number) => TunnelError | null;
}

export interface FakeEdgeConnection {
  readonly number: number;
  readonly session: Session;
  readonly hello: Promise<Hello>;
  readonly binds: Bind[];
  /** Resolves once every BIND of this connection was answered ok (after `count` binds). */
  bound(count?: number): Promise<void>;
}

export const FAKE_EDGE_LIMITS = {
  window: 1024 * 1024,
  maxFramePayload: 64 * 1024,
  maxStreams: 1000,
  heartbeatMs: 10_000,
  deadPeerMs: 30_000,
};

export function defaultBindAck(bind: Bind, connection: number): BindAck {
  const name = bind.name ?? `tmp${connection}`;
  return { id: bind.id, ok: true, name, url: `http://${name}.localhost:8080`, resumeToken: `resume-${name}` };
}

export class FakeEdge {
  readonly connections: FakeEdgeConnection[] = [];
  dials = 0;
  private readonly script: FakeEdgeScript;
  private readonly waiters: ((connection: FakeEdgeConnection) => void)[] = [];

  constructor(script: FakeEdgeScript = {}) {
    this.script = script;
  }

  readonly dial: EdgeDialer = () => {
    this.dials += 1;
    const number = this.dials;
    const refusal = this.script.refuse?.(number) ?? null;
    if (refusal !== null) return Promise.reject(refusal);
    const [agentSide, edgeSide] = createMemoryTransportPair();
    this.accept(number, new Session({ role: 'edge', transport: edgeSide, ...FAKE_EDGE_LIMITS }));
    return Promise.resolve(agentSide);
  };

  /** Serves a connection that arrived some other way (a real WebSocket). */
  serve(transport: Transport): FakeEdgeConnection {
    this.dials += 1;
    this.accept(this.dials, new Session({ role: 'edge', transport, ...FAKE_EDGE_LIMITS }));
    return this.connections.at(-1)!;
  }

  /** The next connection (or the one numbered `number`) once it exists. */
  connection(number = this.connections.length + 1): Promise<FakeEdgeConnection> {
    const existing = this.connections[number - 1];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const check = (connection: FakeEdgeConnection): void => {
        if (connection.number === number) resolve(connection);
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  private accept(number: number, session: Session): void {
    const binds: Bind[] = [];
    const boundWaiters: { count: number; resolve: () => void }[] = [];
    let acked = 0;
    let resolveHello: (hello: Hello) => void = () => undefined;
    const hello = new Promise<Hello>((resolve) => (resolveHello = resolve));
    session.on('control', (type, payload) => {
      if (type === FrameType.HELLO) {
        const message = decodeHello(payload);
        resolveHello(message);
        const verdict = this.script.hello?.(message, number) ?? 'accept';
        if (verdict instanceof TunnelError) {
          session.sendControl(FrameType.ERROR, errorMessageOf(verdict));
          return;
        }
        session.setPeerLimits({ window: message.window, maxFramePayload: message.maxFramePayload });
        const ack: HelloAck = {
          version: PROTOCOL_VERSION,
          sessionId: `session-${number}`,
          ...FAKE_EDGE_LIMITS,
          maxTunnels: 10,
        };
        session.sendControl(FrameType.HELLO_ACK, ack);
      } else if (type === FrameType.BIND) {
        const bind = decodeBind(payload);
        binds.push(bind);
        const ack = (this.script.bind ?? defaultBindAck)(bind, number);
        session.sendControl(FrameType.BIND_ACK, ack);
        if (ack.ok) acked += 1;
        for (const waiter of boundWaiters.filter((w) => acked >= w.count)) waiter.resolve();
      }
    });
    const connection: FakeEdgeConnection = {
      number,
      session,
      hello,
      binds,
      bound: (count = 1) =>
        acked >= count ? Promise.resolve() : new Promise((resolve) => boundWaiters.push({ count, resolve })),
    };
    this.connections.push(connection);
    const waiters = this.waiters.splice(0);
    for (const waiter of waiters) waiter(connection);
  }
}

/** Sends GOAWAY the way a shutting-down edge does. */
export function sendGoAway(session: Session): void {
  session.goAway(new TunnelError('TUN_ERR_GOING_AWAY', 'the edge is shutting down'));
}
