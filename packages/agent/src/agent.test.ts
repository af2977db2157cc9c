import http from 'node:http';
import { TunnelError, type MuxStream, type ResponseHead, type Session } from '@burrow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type AgentHandle } from './agent.js';
import type { AgentOutput, ConnectedEvent } from './agent-output.js';
import { PolicyRefusedError } from './policy-refusal.js';
import { loadAgentConfig, type AgentConfig } from './config/index.js';
import type { RetryInfo } from './reconnect.js';
import type { RequestRecord } from './request-log.js';
import { FakeEdge, defaultBindAck, sendGoAway } from './test-support/fake-edge.js';
import type { BoundTunnel } from './tunnel-binder.js';
import { listenOnLoopback } from './test-support/loopback-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class RecordingOutput implements AgentOutput {
  readonly events: { type: string; value: unknown }[] = [];
  readonly tunnels: BoundTunnel[] = [];
  readonly requests: RequestRecord[] = [];
  readonly retries: RetryInfo[] = [];
  readonly connects: ConnectedEvent[] = [];
  connecting(server: URL): void {
    this.events.push({ type: 'connecting', value: server.href });
  }
  connected(event: ConnectedEvent): void {
    this.connects.push(event);
  }
  tunnel(tunnel: BoundTunnel): void {
    this.tunnels.push(tunnel);
  }
  request(record: RequestRecord): void {
    this.requests.push(record);
  }
  reconnecting(info: RetryInfo): void {
    this.retries.push(info);
  }
  stopping(inFlight: number): void {
    this.events.push({ type: 'stopping', value: inFlight });
  }
  error(err: TunnelError): void {
    this.events.push({ type: 'error', value: err.code });
  }
}

async function startOrigin(handler: http.RequestListener): Promise<URL> {
  const server = http.createServer(handler);
  const listening = await listenOnLoopback(server);
  cleanups.push(listening.close);
  return new URL(`http://127.0.0.1:${listening.port}`);
}

function configFor(origin: URL, overrides: Partial<AgentConfig> = {}): AgentConfig {
  const base = loadAgentConfig({ env: {}, cwd: '/', tunnel: { target: origin.href } });
  return {
    ...base,
    token: 'key-123',
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitter: 0 },
    shutdownMs: 2000,
    ...overrides,
  };
}

function run(
  config: AgentConfig,
  edge: FakeEdge,
  stableAfterMs = 10_000,
): { agent: AgentHandle; output: RecordingOutput } {
  const output = new RecordingOutput();
  const agent = startAgent(config, { output, dial: edge.dial, stableAfterMs });
  cleanups.push(() => agent.destroy());
  return { agent, output };
}

/** A viewer request as the edge would send it, resolved with the head and body. */
function request(
  session: Session,
  tunnel: string,
  path = '/',
): Promise<{ head: ResponseHead; body: string }> {
  const stream: MuxStream = session.openStream();
  return new Promise((resolve, reject) => {
    let head: ResponseHead | null = null;
    let body = '';
    stream.on('head', (h) => (head = h));
    stream.on('data', (chunk) => (body += chunk.toString()));
    stream.on('end', () => resolve({ head: head!, body }));
    stream.on('reset', reject);
    stream.open(
      {
        tunnel,
        method: 'GET',
        path,
        headers: ['Host', `${tunnel}.localhost:8080`],
        remoteAddress: '::1',
        requestId: path,
      },
      { fin: true, upgrade: false },
    );
  });
}

function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('startAgent', () => {
  it('serves a request the edge sends in the same batch as the BIND_ACK', async () => {
    const origin = await startOrigin((req, res) => res.end(`early ${req.url}`));
    const edge = new FakeEdge();
    const early: Promise<{ head: ResponseHead; body: string }>[] = [];
    void edge.connection(1).then((connection) =>
      // Registered after the fake edge's listener: runs right after it queued BIND_ACK, so
      // the OPEN lands in the same transport write, as a busy real edge would send it.
      connection.session.on('control', () => {
        if (connection.binds.length === 1 && early.length === 0) {
          early.push(request(connection.session, 'tmp1', '/early'));
        }
      }),
    );
    run(configFor(origin), edge);
    await waitFor(() => early.length === 1);
    const { head, body } = await early[0]!;
    expect(head.status).toBe(200);
    expect(body).toBe('early /early');
  });

  it('says HELLO, binds the tunnel, and serves requests for it', async () => {
    const origin = await startOrigin((req, res) => res.end(`hi from ${req.url}`));
    const edge = new FakeEdge();
    const { agent, output } = run(configFor(origin), edge);

    const tunnels = await agent.tunnels;
    expect(tunnels).toEqual([
      { id: 'default', name: 'tmp1', url: 'http://tmp1.localhost:8080', origin: origin.origin, access: [] },
    ]);
    const connection = await edge.connection(1);
    expect(await connection.hello).toEqual({
      versions: [1],
      agent: 'burrow/0.1.0',
      token: 'key-123',
      window: 4 * 1024 * 1024,
      maxFramePayload: 256 * 1024,
    });
    expect(connection.binds).toEqual([
      { id: 1, proto: 'http', name: null, resumeToken: null, policy: null, force: false },
    ]);
    expect(output.connects).toEqual([{ sessionId: 'session-1', reconnected: false }]);
    expect(output.tunnels).toEqual(tunnels);

    const response = await request(connection.session, 'tmp1', '/hello');
    expect(response.head.status).toBe(200);
    expect(response.body).toBe('hi from /hello');
    await waitFor(() => output.requests.length === 1);
    expect(output.requests[0]).toMatchObject({ tunnel: 'tmp1', method: 'GET', path: '/hello', status: 200 });
  });

  it('asks for its random name back with the resume token after a reconnect', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const edge = new FakeEdge({
      bind: (bind, connection) =>
        connection > 1 && bind.resumeToken === 'resume-tmp1'
          ? defaultBindAck(bind, connection)
          : defaultBindAck(bind, 1),
    });
    const { agent, output } = run(configFor(origin), edge);
    await agent.tunnels;
    (await edge.connection(1)).session.destroy();

    const second = await edge.connection(2);
    await second.bound();
    expect(second.binds).toEqual([
      { id: 1, proto: 'http', name: 'tmp1', resumeToken: 'resume-tmp1', policy: null, force: false },
    ]);
    await waitFor(() => output.connects.length === 2);
    expect(output.connects[1]).toEqual({ sessionId: 'session-2', reconnected: true });
    // Same URL: not announced again.
    expect(output.tunnels).toHaveLength(1);
    expect(output.retries[0]?.reason.code).toBe('TUN_ERR_SESSION_CLOSED');
    expect((await request(second.session, 'tmp1')).body).toBe('ok');
  });

  it('takes a fresh random name when the edge no longer honours the old one', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const edge = new FakeEdge({
      bind: (bind, connection) =>
        connection === 2 && bind.name !== null
          ? {
              id: bind.id,
              ok: false,
              code: 'TUN_ERR_NAME_REQUIRES_KEY',
              message: 'choosing a name needs an API key',
            }
          : defaultBindAck(bind, connection),
    });
    const { agent, output } = run(configFor(origin, { token: null }), edge);
    await agent.tunnels;
    (await edge.connection(1)).session.destroy();
    await waitFor(() => output.tunnels.length === 2);
    expect(output.tunnels.map((t) => t.url)).toEqual([
      'http://tmp1.localhost:8080',
      'http://tmp2.localhost:8080',
    ]);
    const second = await edge.connection(2);
    expect(second.binds.map((b) => b.name)).toEqual(['tmp1', null]);
  });

  it('stops without retrying when the edge rejects the API key', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const edge = new FakeEdge({ hello: () => new TunnelError('TUN_ERR_UNAUTHORIZED', 'unknown API key') });
    const { agent, output } = run(configFor(origin), edge);
    await expect(agent.done).rejects.toMatchObject({
      code: 'TUN_ERR_UNAUTHORIZED',
      message: 'unknown API key',
    });
    await expect(agent.tunnels).rejects.toMatchObject({ code: 'TUN_ERR_UNAUTHORIZED' });
    expect(edge.dials).toBe(1);
    expect(output.retries).toEqual([]);
  });

  it('stops when the wanted name belongs to someone else', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const edge = new FakeEdge({
      bind: (bind) => ({ id: bind.id, ok: false, code: 'TUN_ERR_NAME_TAKEN', message: 'taken' }),
    });
    const config = configFor(origin);
    const { agent } = run({ ...config, tunnels: [{ ...config.tunnels[0]!, name: 'demo' }] }, edge);
    await expect(agent.done).rejects.toMatchObject({
      code: 'TUN_ERR_NAME_TAKEN',
      message: 'the edge refused the name "demo": taken',
    });
    expect(edge.dials).toBe(1);
  });

  it('sends each tunnel its policy in BIND, on the first connection and after a reconnect', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const edge = new FakeEdge();
    const config = configFor(origin);
    const policy = { basicAuth: ['alice:pw-alice-1'], rateLimit: '10/s' };
    const { agent } = run(
      { ...config, tunnels: [{ ...config.tunnels[0]!, policy, hostHeader: 'rewrite' }] },
      edge,
    );
    const [tunnel] = await agent.tunnels;
    expect(tunnel?.access).toEqual([
      'basic auth (alice)',
      'rate limit 10/s per client IP',
      `Host header ${origin.host}`,
    ]);
    const first = await edge.connection(1);
    expect(first.binds).toEqual([
      { id: 1, proto: 'http', name: null, resumeToken: null, policy, force: false },
    ]);
    first.session.destroy();
    const second = await edge.connection(2);
    await second.bound();
    expect(second.binds[0]).toMatchObject({ name: 'tmp1', policy });
  });

  it('stops at once, without a fresh-name retry, when the edge refuses the policy', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const edge = new FakeEdge({
      bind: (bind, connection) =>
        connection === 1
          ? defaultBindAck(bind, connection)
          : {
              id: bind.id,
              ok: false,
              code: 'TUN_ERR_BAD_MESSAGE',
              message: 'invalid tunnel policy: basicAuth[0] must be "user:pass", got "alice:pw-alice-1"',
            },
    });
    const config = configFor(origin);
    const policy = { basicAuth: ['alice:pw-alice-1'] };
    const { agent, output } = run({ ...config, tunnels: [{ ...config.tunnels[0]!, policy }] }, edge);
    await agent.tunnels;
    (await edge.connection(1)).session.destroy();
    const refused = await agent.done.then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(PolicyRefusedError);
    expect(refused).toMatchObject({
      code: 'TUN_ERR_BAD_MESSAGE',
      message:
        'the edge refused the access settings of tunnel "default": invalid tunnel policy: ' +
        'basicAuth[0] must be "user:pass", got "***"',
    });
    expect(edge.dials).toBe(2);
    expect((await edge.connection(2)).binds).toHaveLength(1);
    expect(output.retries).toHaveLength(1);
  });

  it('treats a BIND_ACK error code it does not know as a protocol error instead of crashing', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const edge = new FakeEdge({
      bind: (bind) => ({
        id: bind.id,
        ok: false,
        code: 'TUN_ERR_FROM_THE_FUTURE' as 'TUN_ERR_NAME_TAKEN',
        message: 'new',
      }),
    });
    const { agent } = run(configFor(origin), edge);
    await expect(agent.done).rejects.toMatchObject({ code: 'TUN_ERR_PROTOCOL' });
  });

  it('keeps retrying while the edge is unreachable, then connects', async () => {
    const origin = await startOrigin((_req, res) => res.end());
    const edge = new FakeEdge({
      refuse: (n) =>
        n < 3 ? new TunnelError('TUN_ERR_CONNECT_FAILED', 'connection refused by edge:8080') : null,
    });
    const { agent, output } = run(configFor(origin), edge);
    await agent.tunnels;
    expect(edge.dials).toBe(3);
    expect(output.retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 20],
      [2, 40],
    ]);
  });

  it('on GOAWAY lets the in-flight request finish, then reconnects at once', async () => {
    let release: () => void = () => undefined;
    const origin = await startOrigin((_req, res) => {
      release = () => res.end('finished after goaway');
    });
    const edge = new FakeEdge();
    const { agent, output } = run(configFor(origin), edge, 0);
    await agent.tunnels;
    const first = await edge.connection(1);
    const inFlight = request(first.session, 'tmp1', '/slow');
    await waitFor(() => first.session.streamCount === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    sendGoAway(first.session);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(edge.dials).toBe(1);
    release();
    expect((await inFlight).body).toBe('finished after goaway');
    const second = await edge.connection(2);
    await second.bound();
    expect(output.retries[0]).toMatchObject({ delayMs: 0 });
    expect(output.retries[0]?.reason.code).toBe('TUN_ERR_GOING_AWAY');
  });

  it('closes gracefully: the in-flight request finishes, then everything is released', async () => {
    let release: () => void = () => undefined;
    const origin = await startOrigin((_req, res) => {
      release = () => res.end('done');
    });
    const edge = new FakeEdge();
    const { agent, output } = run(configFor(origin), edge);
    await agent.tunnels;
    const connection = await edge.connection(1);
    const inFlight = request(connection.session, 'tmp1', '/slow');
    await waitFor(() => connection.session.streamCount === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const closed = agent.close();
    expect(output.events).toContainEqual({ type: 'stopping', value: 1 });
    setTimeout(() => release(), 50);
    expect((await inFlight).body).toBe('done');
    await closed;
    await expect(agent.done).resolves.toBeUndefined();
    await waitFor(() => connection.session.isClosed);
    expect(edge.dials).toBe(1);
  });
});
