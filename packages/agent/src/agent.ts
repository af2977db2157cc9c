/**
 * The agent, composed: a reconnect loop around one session at a time, the forwarder on each
 * session, origin pools shared by all of them, events to an output. Holds no globals and
 * reads no environment, so one process can run many agents (tests, the benchmark).
 *
 * `close()` is graceful: stop reconnecting, GOAWAY, let in-flight requests finish within
 * `config.shutdownMs`, then drop connections. `destroy()` drops everything at once.
 */

import { TunnelError, toTunnelError, type Session, type Timers } from '@burrow/protocol';
import { createTextOutput, type AgentOutput } from './agent-output.js';
import { Backoff, type RandomSource } from './backoff.js';
import type { AgentConfig } from './config/index.js';
import { dialWebSocket, type EdgeDialer } from './edge-dialer.js';
import type { ForwardContext, OriginCallTracer } from './forward-context.js';
import { routeFor, serveStream, type Route } from './forwarder.js';
import type { AgentMetrics } from './metrics/agent-metrics.js';
import { OriginPools } from './origin-pools.js';
import { runReconnectLoop, type LiveSession, type SessionEnd } from './reconnect.js';
import { connectSession } from './session-client.js';
import { TunnelBinding, type BoundTunnel } from './tunnel-binder.js';

export interface AgentDependencies {
  /** Default: text on process.stdout / process.stderr. */
  readonly output?: AgentOutput;
  /** Default: `agentTimers` (referenced, so a waiting agent keeps its process alive). */
  readonly timers?: Timers;
  /** Jitter source for reconnect delays; Math.random by default. */
  readonly random?: RandomSource;
  /** How to reach the edge; a WebSocket by default. */
  readonly dial?: EdgeDialer;
  /** Budget for each connect step (dial, handshake, bind), in ms. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** A session up this long resets the reconnect backoff, in ms. Default 10 s. */
  readonly stableAfterMs?: number;
  /** Span export for origin calls (tracing/otlp-export.ts); the caller closes it after the agent. */
  readonly tracer?: OriginCallTracer | null;
  /** Counts requests, reconnects and reads the session's RTT (`--metrics-listen`); none by default. */
  readonly metrics?: AgentMetrics;
}

export interface AgentHandle {
  /**
   * The tunnels, in config order, once the first session has bound them all. Rejects if
   * the agent stops before that (a non-retryable error, or close()).
   */
  readonly tunnels: Promise<BoundTunnel[]>;
  /**
   * Settles once the agent has stopped and released its connections: resolves after
   * close() or destroy(), rejects with the TunnelError that made it give up.
   */
  readonly done: Promise<void>;
  /** Graceful stop; resolves when everything is released. Idempotent. */
  close(): Promise<void>;
  /** Immediate stop: in-flight requests are reset. */
  destroy(): void;
}

/**
 * Referenced timers, unlike the protocol's unref'd `realTimers`: while the agent waits to
 * reconnect nothing else keeps the process alive, and a CLI that exits between two attempts
 * would silently stop serving. close()/destroy() clear every timer the agent set.
 */
export const agentTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const DEFAULT_STABLE_AFTER_MS = 10_000;

/** Starts connecting at once; see AgentHandle for how to learn the outcome. */
export function startAgent(config: AgentConfig, dependencies: AgentDependencies = {}): AgentHandle {
  return new Agent(config, dependencies);
}

class Agent implements AgentHandle {
  readonly tunnels: Promise<BoundTunnel[]>;
  readonly done: Promise<void>;

  private readonly config: AgentConfig;
  private readonly output: AgentOutput;
  private readonly timers: Timers;
  private readonly dial: EdgeDialer;
  private readonly stepTimeoutMs: number;
  private readonly stop = new AbortController();
  private readonly pools: OriginPools;
  private readonly bindings: TunnelBinding[];
  private readonly forwardContext: ForwardContext;
  private readonly metrics: AgentMetrics | null;
  private current: Session | null = null;
  private sessionsSoFar = 0;
  private closing: Promise<void> | null = null;
  private settleTunnels: { resolve: (t: BoundTunnel[]) => void; reject: (e: TunnelError) => void } | null =
    null;

  constructor(config: AgentConfig, deps: AgentDependencies) {
    this.config = config;
    this.output = deps.output ?? createTextOutput({ stdout: process.stdout, stderr: process.stderr });
    this.timers = deps.timers ?? agentTimers;
    this.dial = deps.dial ?? dialWebSocket;
    this.stepTimeoutMs = deps.connectTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.pools = new OriginPools({ connections: config.maxOriginConnections });
    this.bindings = config.tunnels.map((spec) => new TunnelBinding(spec, config.force));
    const metrics = deps.metrics ?? null;
    this.metrics = metrics;
    this.forwardContext = {
      pools: this.pools,
      timers: this.timers,
      originTimeoutMs: config.originTimeoutMs,
      onRequest:
        metrics === null
          ? (record) => this.output.request(record)
          : (record) => {
              metrics.request(record);
              this.output.request(record);
            },
      tracer: deps.tracer ?? null,
    };
    this.tunnels = new Promise<BoundTunnel[]>((resolve, reject) => {
      this.settleTunnels = { resolve, reject };
    });
    // Callers may watch only `done`; an unobserved rejection here must not crash the process.
    this.tunnels.catch(() => undefined);

    this.output.connecting(config.server);
    const loop = runReconnectLoop({
      connect: (_attempt, signal) => this.connect(signal),
      onRetry: (info) => this.output.reconnecting(info),
      backoff: new Backoff(config.reconnect, deps.random),
      timers: this.timers,
      stableAfterMs: deps.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS,
      signal: this.stop.signal,
    });
    this.done = loop.then(
      () =>
        this.release(
          new TunnelError('TUN_ERR_SESSION_CLOSED', 'the agent stopped before its tunnels were bound'),
        ),
      async (err: unknown) => {
        const reason = toTunnelError(err);
        this.stop.abort();
        await this.release(reason);
        throw reason;
      },
    );
    this.done.catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  destroy(): void {
    this.stop.abort();
    this.current?.destroy(new TunnelError('TUN_ERR_SESSION_CLOSED', 'the agent was stopped'));
    void this.pools.destroy();
  }

  private async shutdown(): Promise<void> {
    this.stop.abort();
    const session = this.current;
    if (session !== null && !session.isClosed) {
      this.output.stopping(session.streamCount, this.config.shutdownMs);
      await session.close(this.config.shutdownMs);
    }
    await this.done.catch(() => undefined);
  }

  /** After the loop ends: no tunnels promise left pending, no origin connections left open. */
  private async release(reason: TunnelError): Promise<void> {
    this.settleTunnels?.reject(reason);
    this.settleTunnels = null;
    await this.pools.destroy();
  }

  /** One connect attempt for the reconnect loop; resolves with the live session. */
  private async connect(signal: AbortSignal): Promise<LiveSession> {
    const previousUrls = this.bindings.map((binding) => binding.url);
    const routes = new Map<string, Route>();
    const { session, hello, tunnels } = await connectSession({
      serve: (stream) => serveStream(stream, routes, this.forwardContext),
      onBound: (binding, name) => routes.set(name, routeFor(binding.spec)),
      server: this.config.server,
      ca: this.config.ca,
      token: this.config.token,
      bindings: this.bindings,
      dial: this.dial,
      timers: this.timers,
      stepTimeoutMs: this.stepTimeoutMs,
      signal,
    });
    if (signal.aborted) {
      session.destroy();
      throw new TunnelError('TUN_ERR_SESSION_CLOSED', 'the agent was stopped');
    }
    this.current = session;
    this.metrics?.connected(session, this.sessionsSoFar > 0);
    const ended = this.watch(session);

    this.output.connected({ sessionId: hello.sessionId, reconnected: this.sessionsSoFar > 0 });
    this.sessionsSoFar += 1;
    tunnels.forEach((tunnel, i) => {
      if (previousUrls[i] !== tunnel.url) this.output.tunnel(tunnel);
    });
    this.settleTunnels?.resolve(tunnels);
    this.settleTunnels = null;
    return { ended };
  }

  /**
   * Resolves when the session is gone. A GOAWAY from the edge (it is shutting down) starts
   * our own graceful close: in-flight streams finish, then the loop reconnects.
   */
  private watch(session: Session): Promise<SessionEnd> {
    const startedAt = this.timers.now();
    let goaway: TunnelError | null = null;
    session.on('goaway', (err) => {
      goaway = err;
      void session.close(this.config.shutdownMs);
    });
    return new Promise<SessionEnd>((resolve) => {
      const ended = (err: TunnelError | undefined): void => {
        if (this.current === session) this.current = null;
        resolve({
          reason: goaway ?? lostConnection(err),
          upMs: this.timers.now() - startedAt,
          goaway: goaway?.code === 'TUN_ERR_GOING_AWAY',
        });
      };
      if (session.isClosed) ended(undefined);
      else session.once('close', ended);
    });
  }
}

/** Session-closed reasons come from the transport ("websocket closed with code 1006"); say it plainly. */
function lostConnection(err: TunnelError | undefined): TunnelError {
  if (err === undefined) return new TunnelError('TUN_ERR_SESSION_CLOSED', 'the edge closed the connection');
  if (err.code !== 'TUN_ERR_SESSION_CLOSED') return err;
  return new TunnelError('TUN_ERR_SESSION_CLOSED', `the connection to the edge was lost (${err.message})`, {
    cause: err,
  });
}
