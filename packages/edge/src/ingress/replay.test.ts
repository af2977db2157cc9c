import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { realTimers, TunnelError, type MuxStream, type RequestHead } from '@burrow/protocol';
import { until } from '../gateway/test-support/gateway-rig.js';
import type { RequestObserver } from '../observe/request-observer.js';
import type { RequestRecord } from '../store/request-records.js';
import { reply } from '../test-support/fake-agent.js';
import { startIngressRig, type IngressRig } from '../test-support/ingress-rig.js';
import { REPLAY_HEADER, replayRefusal, replayRequest, type ReplayDeps } from './replay.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

function recorder(): { records: RequestRecord[]; observer: RequestObserver } {
  const records: RequestRecord[] = [];
  return { records, observer: { record: (r) => records.push(r) } };
}

function replayDeps(
  rig: IngressRig,
  observer: RequestObserver,
  overrides: Partial<ReplayDeps> = {},
): ReplayDeps {
  return {
    registry: rig.gateway.registry,
    policies: rig.gateway.deps.policies,
    timers: realTimers,
    tunnelExists: async (name) => (await rig.gateway.store.getTunnel(name)) !== undefined,
    maxPendingRequests: 10,
    observer,
    newRequestId: randomUUID,
    requestTimeoutMs: 5000,
    responseIdleMs: 5000,
    stopwatch: () => performance.now(),
    proto: 'https',
    ...overrides,
  };
}

/** Name → value (last wins) of a flat header list. */
function headerMap(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!.toLowerCase()] = flat[i + 1]!;
  return out;
}

interface Seen {
  head: RequestHead;
  body: string;
}

/** The agent answers each request with 201 and a body naming its request id, keeping what it saw. */
function echoing(seen: Seen[]) {
  return (stream: MuxStream, head: RequestHead): void => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.once('end', () => {
      seen.push({ head, body: Buffer.concat(chunks).toString() });
      reply(stream, 201, ['Set-Cookie', 'session=abc', 'X-Seen', head.requestId], `got ${head.requestId}`);
    });
  };
}

describe('replay', () => {
  it('sends a captured request again (same method, path, headers and body, a new id) and records the answer', async () => {
    const heard = recorder();
    rig = await startIngressRig({ observer: heard.observer });
    const { secret } = await rig.gateway.store.createApiKey({ label: 'replay', scopes: ['agent'] });
    const { agent, name } = await rig.agent({
      token: secret,
      policy: { capture: { bodies: true }, requestHeaderAdd: ['X-From-Policy: yes'] },
    });
    const seen: Seen[] = [];
    agent.serve(echoing(seen));
    const first = await rig.send(name, {
      method: 'PUT',
      path: '/hooks/stripe?attempt=1',
      headers: {
        authorization: 'Bearer secret-1',
        'x-signature': 'sig-42',
        'content-type': 'application/json',
      },
      body: '{"event":"paid"}',
    });
    expect(first.status).toBe(201);
    await until(() => heard.records.length === 1, 5000, 'the original record');
    const original = heard.records[0]!;

    const result = await replayRequest(replayDeps(rig, heard.observer), original, '127.0.0.9');
    expect(result.status).toBe(201);
    expect(result.errorCode).toBeNull();
    expect(result.id).not.toBe(original.id);

    expect(seen).toHaveLength(2);
    const [then, now] = seen as [Seen, Seen];
    expect(now.head.method).toBe('PUT');
    expect(now.head.path).toBe('/hooks/stripe?attempt=1');
    expect(now.body).toBe('{"event":"paid"}');
    expect(now.head.requestId).toBe(result.id);
    const thenHeaders = headerMap(then.head.headers);
    const nowHeaders = headerMap(now.head.headers);
    expect(nowHeaders['x-signature']).toBe('sig-42');
    expect(nowHeaders['content-type']).toBe('application/json');
    expect(nowHeaders['x-from-policy']).toBe('yes');
    expect(nowHeaders[REPLAY_HEADER.toLowerCase()]).toBe(original.id);
    expect(nowHeaders['x-request-id']).toBe(result.id);
    expect(nowHeaders['x-forwarded-for']).toBe('127.0.0.9');
    expect(nowHeaders.host).toBe(thenHeaders.host);
    // The viewer's credentials were redacted in the record: the replay cannot, and does not, send them.
    expect(thenHeaders.authorization).toBe('Bearer secret-1');
    expect(nowHeaders).not.toHaveProperty('authorization');

    const replayed = heard.records[1]!;
    expect(replayed).toMatchObject({
      id: result.id,
      tunnel: name,
      userId: original.userId,
      method: 'PUT',
      path: '/hooks/stripe?attempt=1',
      status: 201,
      replayOf: original.id,
      bytesIn: 16,
      bytesOut: `got ${result.id}`.length,
      clientAddress: '127.0.0.9',
      errorCode: null,
    });
    expect(replayed.userId).not.toBeNull();
    expect(replayed.traceId).not.toBe(original.traceId);
    expect(replayed.timing.tunnelMs).not.toBeNull();
    expect(replayed.capture?.responseBody?.toString()).toBe(`got ${result.id}`);
    expect(headerMap(replayed.capture!.responseHeaders)['set-cookie']).toBe('***');
  });

  it('refuses what it cannot send as it was: no capture, an uncaptured or cut body, a masked path, an upgrade', () => {
    const base = {
      id: 'r1',
      tunnel: 't',
      userId: null,
      startedAt: new Date(),
      method: 'POST',
      path: '/',
      host: 't.burrow.test',
      status: 200,
      upgrade: false,
      bytesIn: 10,
      bytesOut: 0,
      clientAddress: '127.0.0.1',
      traceId: null,
      errorCode: null,
      timing: { edgeMs: 0, tunnelMs: 0, originMs: 0, totalMs: 0 },
      replayOf: null,
      capture: null,
    } satisfies RequestRecord;
    expect(replayRefusal(base)).toMatch(/not captured/);
    expect(replayRefusal({ ...base, bytesIn: 0 })).toMatch(/not captured/);
    const withBody = (body: Buffer | null, truncated = false) => ({
      requestHeaders: ['Content-Type', 'text/plain', 'Content-Length', '5'],
      requestBody: body,
      requestBodyTruncated: truncated,
      responseHeaders: [],
      responseBody: null,
      responseBodyTruncated: false,
    });
    expect(replayRefusal({ ...base, bytesIn: 5, capture: withBody(Buffer.from('12345')) })).toBeNull();
    // A chunked (or HTTP/2) body leaves no length in the capture: the bytes seen decide.
    const chunked = { ...withBody(Buffer.from('12345')), requestHeaders: ['Content-Type', 'text/plain'] };
    expect(replayRefusal({ ...base, bytesIn: 5, capture: chunked })).toBeNull();
    expect(replayRefusal({ ...base, bytesIn: 9, capture: chunked })).toMatch(
      /did not reach the tunnel whole/,
    );
    // Refused before it was read: nothing seen, but the exchange marked the capture cut.
    expect(
      replayRefusal({
        ...base,
        bytesIn: 0,
        capture: { ...chunked, requestBody: null, requestBodyTruncated: true },
      }),
    ).toMatch(/did not reach the tunnel whole/);
    expect(replayRefusal({ ...base, capture: withBody(Buffer.from('123'), true) })).toMatch(/first 3 bytes/);
    expect(replayRefusal({ ...base, capture: withBody(null) })).toMatch(/body that was not captured/);
    // Refused before its body was read (policy, offline agent): Content-Length says 5, nothing arrived.
    expect(replayRefusal({ ...base, bytesIn: 0, capture: withBody(null) })).toMatch(
      /body that was not captured/,
    );
    expect(replayRefusal({ ...base, capture: withBody(Buffer.from('12')) })).toMatch(
      /did not reach the tunnel whole/,
    );
    const headersOnly = { ...withBody(null), requestHeaders: ['Accept', '*/*'] };
    expect(replayRefusal({ ...base, bytesIn: 0, capture: headersOnly })).toBeNull();
    expect(
      replayRefusal(
        { ...base, bytesIn: 0, capture: headersOnly },
        { keepQuery: false, redactHeaders: new Set() },
      ),
    ).toMatch(/keepQuery/);
    expect(replayRefusal({ ...base, bytesIn: 0, capture: headersOnly, path: '/?burrow_token=***' })).toMatch(
      /token/,
    );
    expect(replayRefusal({ ...base, bytesIn: 0, upgrade: true, capture: headersOnly })).toMatch(/upgrade/);
  });

  it("refuses to send one user's request to a name another user now serves", async () => {
    const heard = recorder();
    rig = await startIngressRig({ observer: heard.observer });
    const { name } = await rig.agent({ token: await agentKey(rig), policy: { capture: { bodies: true } } });
    await rig.send(name, { path: '/x' });
    await until(() => heard.records.length === 1, 5000, 'the record');
    const original = { ...heard.records[0]!, userId: 'usr_someone_else' };
    const err = await replayRequest(replayDeps(rig, heard.observer), original, '127.0.0.1').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUN_ERR_REPLAY_UNAVAILABLE');
    expect(heard.records).toHaveLength(1);
  });

  it('checks the owner again when the name was in its reconnect grace, and sends nothing to another user', async () => {
    const heard = recorder();
    rig = await startIngressRig({ observer: heard.observer });
    const { agent, name } = await rig.agent({
      token: await agentKey(rig),
      policy: { capture: { bodies: true } },
    });
    await rig.send(name, { path: '/mine' });
    await until(() => heard.records.length === 1, 5000, 'the record');
    const registry = rig.gateway.registry;
    const target = registry.lookup(name)!;
    const opensBefore = agent.opened.length;
    // The name reconnecting: nothing live, requests wait for whoever binds it next.
    registry.unbind(name, target, Date.now() + 3000);
    const someoneElses = { ...heard.records[0]!, userId: 'usr_previous_owner' };
    const pending = replayRequest(replayDeps(rig, heard.observer), someoneElses, '127.0.0.1').catch(
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    registry.bind(name, target);
    const err = await pending;
    expect((err as TunnelError).code).toBe('TUN_ERR_REPLAY_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 50));
    // The stream was reset before OPEN: the agent never heard of the request.
    expect(agent.opened.length).toBe(opensBefore);
    expect(heard.records).toHaveLength(1);
  });

  it('records an origin that does not answer in time with its error code', async () => {
    const heard = recorder();
    rig = await startIngressRig({ observer: heard.observer });
    const { agent, name } = await rig.agent({
      token: await agentKey(rig),
      policy: { capture: { bodies: true } },
    });
    await rig.send(name, { path: '/slow' });
    await until(() => heard.records.length === 1, 5000, 'the record');
    agent.serve(() => undefined);
    const result = await replayRequest(
      replayDeps(rig, heard.observer, { requestTimeoutMs: 150 }),
      heard.records[0]!,
      '127.0.0.1',
    );
    expect(result).toMatchObject({ status: 0, errorCode: 'TUN_ERR_ORIGIN_TIMEOUT' });
    expect(heard.records[1]).toMatchObject({
      replayOf: heard.records[0]!.id,
      errorCode: 'TUN_ERR_ORIGIN_TIMEOUT',
    });
  });

  it('answers an offline tunnel with the usual error, before anything is recorded', async () => {
    const heard = recorder();
    rig = await startIngressRig({ observer: heard.observer });
    const { agent, name } = await rig.agent({
      token: await agentKey(rig),
      policy: { capture: { bodies: true } },
    });
    await rig.send(name, { path: '/' });
    await until(() => heard.records.length === 1, 5000, 'the record');
    agent.close();
    await until(() => rig!.gateway.registry.lookup(name) === undefined, 5000, 'the unbind');
    const err = await replayRequest(replayDeps(rig, heard.observer), heard.records[0]!, '127.0.0.1').catch(
      (e: unknown) => e,
    );
    expect((err as TunnelError).code).toMatch(/TUN_ERR_(AGENT_OFFLINE|TUNNEL_NOT_FOUND)/);
    expect(heard.records).toHaveLength(1);
  });
});

/** A key of the rig's user: captures are kept only for tunnels someone owns. */
async function agentKey(rig: IngressRig): Promise<string> {
  const { secret } = await rig.gateway.store.createApiKey({ label: `k${Math.random()}`, scopes: ['agent'] });
  return secret;
}
