import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError, type MuxStream } from '@burrow/protocol';
import { until } from '../gateway/test-support/gateway-rig.js';
import type { RequestObserver } from '../observe/request-observer.js';
import type { RequestRecord } from '../store/request-records.js';
import { reply } from '../test-support/fake-agent.js';
import {
  RIG_DOMAIN,
  startIngressRig,
  type IngressRig,
  type IngressRigOptions,
} from '../test-support/ingress-rig.js';
import { DEFAULT_RECORD_OPTIONS } from './exchange-record.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

interface Heard {
  records: RequestRecord[];
  upgraded: string[];
  /** The one record, once it arrived. */
  one(): Promise<RequestRecord>;
}

function listener(): Heard & { observer: RequestObserver } {
  const records: RequestRecord[] = [];
  const upgraded: string[] = [];
  return {
    records,
    upgraded,
    observer: { record: (r) => records.push(r), upgraded: (name) => upgraded.push(name) },
    async one() {
      await until(() => records.length > 0, 5000, 'a request record');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(records).toHaveLength(1);
      return records[0]!;
    },
  };
}

async function start(options: IngressRigOptions = {}): Promise<{ rig: IngressRig; heard: Heard }> {
  const heard = listener();
  rig = await startIngressRig({ ...options, observer: heard.observer });
  return { rig, heard };
}

function respondLater(stream: MuxStream, delayMs: number, originMs: number | undefined, body: string): void {
  setTimeout(() => {
    const head = { status: 201, statusText: '', headers: ['Content-Length', String(body.length)] };
    stream.respond(originMs === undefined ? head : { ...head, originMs }, { fin: false });
    stream.write(Buffer.from(body));
    stream.end();
  }, delayMs);
}

describe('request records', () => {
  it('records a forwarded request with every field and the timing breakdown', async () => {
    const { rig, heard } = await start();
    const { secret } = await rig.gateway.store.createApiKey({ label: 'rec', scopes: ['agent'] });
    const { agent, name } = await rig.agent({ token: secret });
    agent.serve((stream) => {
      stream.on('data', () => undefined);
      stream.once('end', () => respondLater(stream, 40, 25, 'made it'));
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = Date.now();
    const res = await rig.send(name, {
      method: 'POST',
      path: '/up?x=1',
      body: 'hello there',
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(201);
    const record = await heard.one();
    const target = rig.gateway.registry.lookup(name);
    expect(record).toMatchObject({
      id: agent.opened[0]!.requestId,
      tunnel: name,
      userId: target?.userId,
      method: 'POST',
      path: '/up?x=1',
      host: `${name}.${RIG_DOMAIN}`,
      status: 201,
      upgrade: false,
      bytesIn: 11,
      bytesOut: 7,
      clientAddress: '127.0.0.1',
      traceId,
      errorCode: null,
      replayOf: null,
      capture: null,
    });
    expect(record.userId).toMatch(/.+/);
    expect(record.startedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(record.startedAt.getTime()).toBeLessThanOrEqual(Date.now());
    const { edgeMs, tunnelMs, originMs, totalMs } = record.timing;
    expect(originMs).toBe(25);
    expect(edgeMs).toBeGreaterThanOrEqual(0);
    // The agent held its head 40 ms; 25 of them it called the origin's.
    expect(tunnelMs).toBeGreaterThanOrEqual(14);
    expect(totalMs).toBeGreaterThanOrEqual(39);
    expect(totalMs).toBeGreaterThanOrEqual(edgeMs! + tunnelMs! + originMs!);
  });

  it('starts a trace for a request without traceparent, and counts the whole round trip as the tunnel when the agent did not time its origin', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => respondLater(stream, 30, undefined, 'x'));
    await rig.send(name);
    const record = await heard.one();
    expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(record.userId).toBeNull();
    expect(record.timing.originMs).toBeNull();
    expect(record.timing.tunnelMs).toBeGreaterThanOrEqual(29);
  });

  it("records a refused request with the policy's code and no stream timing, the token in its path hidden", async () => {
    const { rig, heard } = await start();
    const { name } = await rig.agent({ policy: { authToken: 'sesame-1234' } });
    const res = await rig.send(name, { path: '/door?burrow_token=guess-1&a=b' });
    expect(res.status).toBe(401);
    const record = await heard.one();
    expect(record.status).toBe(401);
    expect(record.errorCode).toBe(res.headers['x-burrow-error']);
    expect(record.errorCode).toMatch(/^POLICY_/);
    expect(record.path).toBe('/door?burrow_token=***&a=b');
    expect(record.timing).toMatchObject({ edgeMs: null, tunnelMs: null, originMs: null });
    expect(record.timing.totalMs).toBeGreaterThanOrEqual(0);
  });

  it('records the code and status of an origin error the agent reported', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => stream.reset(new TunnelError('TUN_ERR_ORIGIN_REFUSED', 'nothing on 3000')));
    expect((await rig.send(name)).status).toBe(502);
    const record = await heard.one();
    expect(record).toMatchObject({ status: 502, errorCode: 'TUN_ERR_ORIGIN_REFUSED', bytesOut: 0 });
    expect(record.timing.edgeMs).not.toBeNull();
    expect(record.timing.tunnelMs).toBeNull();
  });

  it('records a viewer that left before its answer: no status, the stream cancelled', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent();
    const reset = new Promise<string>((resolve) =>
      agent.serve((stream) => stream.on('reset', (err: TunnelError) => resolve(err.code))),
    );
    const socket = connect(rig.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /slow HTTP/1.1\r\nHost: ${name}.${RIG_DOMAIN}\r\n\r\n`);
    await until(() => agent.opened.length === 1);
    socket.destroy();
    expect(await reset).toBe('TUN_ERR_STREAM_CANCELLED');
    const record = await heard.one();
    expect(record).toMatchObject({ status: 0, errorCode: 'TUN_ERR_STREAM_CANCELLED', path: '/slow' });
    expect(record.timing.edgeMs).not.toBeNull();
    expect(record.timing.tunnelMs).toBeNull();
  });

  it('records a response cut after its head with the status sent and the cut', async () => {
    const { rig, heard } = await start({ responseIdleMs: 100 });
    const { agent, name } = await rig.agent();
    agent.serve((stream) => {
      stream.respond({ status: 200, statusText: '', headers: ['Content-Length', '10'] }, { fin: false });
      stream.write(Buffer.from('abc'));
    });
    await expect(rig.send(name)).rejects.toThrow();
    const record = await heard.one();
    expect(record).toMatchObject({ status: 200, errorCode: 'TUN_ERR_RESPONSE_TIMEOUT', bytesOut: 3 });
  });

  it('records an upgrade with the bytes each way after the 101, and says when the 101 went out', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => {
      stream.respond(
        {
          status: 101,
          statusText: '',
          headers: ['Connection', 'Upgrade', 'Upgrade', 'websocket'],
          originMs: 3,
        },
        { fin: false },
      );
      stream.on('data', (c: Buffer) => stream.write(Buffer.from(`echo:${c.toString()}`)));
      // The viewer's end half-closes; the origin closing too ends the exchange.
      stream.on('end', () => stream.end());
    });
    const socket = connect(rig.port, '127.0.0.1');
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${name}.${RIG_DOMAIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    await until(() => text.includes('\r\n\r\n'));
    expect(heard.upgraded).toEqual([name]);
    expect(heard.records).toEqual([]);
    socket.write('ping');
    await until(() => text.includes('echo:ping'));
    socket.write('pong!');
    await until(() => text.includes('echo:pong!'));
    socket.end();
    const record = await heard.one();
    expect(record).toMatchObject({
      upgrade: true,
      status: 101,
      bytesIn: 9,
      bytesOut: 19,
      errorCode: null,
      path: '/ws',
    });
    // The agent said 3 ms; never more than the round trip the edge measured.
    expect(record.timing.originMs).toBeGreaterThan(0);
    expect(record.timing.originMs).toBeLessThanOrEqual(3);
  });

  it('drops the query when keepQuery is off, and cuts a long path', async () => {
    const heard = listener();
    rig = await startIngressRig({
      observer: heard.observer,
      recordOptions: { ...DEFAULT_RECORD_OPTIONS, keepQuery: false },
    });
    const { name } = await rig.agent();
    const long = `/${'p'.repeat(3000)}`;
    await rig.send(name, { path: `${long}?secret=1` });
    const record = await heard.one();
    expect(record.path).toBe(long.slice(0, 2048));
    rig.send(name, { path: '/q?x=1' }).catch(() => undefined);
    await until(() => heard.records.length === 2);
    expect(heard.records[1]!.path).toBe('/q');
  });
});

describe('capture', () => {
  it('keeps headers (redacted) and bodies up to maxBytes, flagging the cut one', async () => {
    const heard = listener();
    rig = await startIngressRig({
      observer: heard.observer,
      recordOptions: {
        ...DEFAULT_RECORD_OPTIONS,
        redactHeaders: new Set([...DEFAULT_RECORD_OPTIONS.redactHeaders, 'x-secret']),
      },
    });
    const { agent, name } = await rig.agent({
      token: await agentKey(rig),
      policy: { capture: { bodies: true, maxBytes: 8 } },
    });
    agent.serve((stream) => {
      stream.on('data', () => undefined);
      stream.once('end', () => reply(stream, 200, ['Set-Cookie', 'session=abc', 'X-Kind', 'plain'], 'resp'));
    });
    const res = await rig.send(name, {
      method: 'PUT',
      body: 'abcdefghijkl',
      headers: { authorization: 'Bearer hunter2', cookie: 'a=1', 'x-secret': 's', 'x-visible': 'v' },
    });
    expect(res.body).toBe('resp');
    const { capture } = await heard.one();
    expect(capture).not.toBeNull();
    const headers = (list: string[]) =>
      Object.fromEntries(list.flatMap((v, i) => (i % 2 === 0 ? [[v.toLowerCase(), list[i + 1]]] : [])));
    expect(headers(capture!.requestHeaders)).toMatchObject({
      authorization: '***',
      cookie: '***',
      'x-secret': '***',
      'x-visible': 'v',
    });
    // Hop-by-hop headers are gone, as toward the agent.
    expect(headers(capture!.requestHeaders)).not.toHaveProperty('connection');
    expect(capture!.requestBody?.toString()).toBe('abcdefgh');
    expect(capture!.requestBodyTruncated).toBe(true);
    const response = headers(capture!.responseHeaders);
    expect(response).toMatchObject({ 'set-cookie': '***', 'x-kind': 'plain' });
    expect(response['x-request-id']).toBe(res.headers['x-request-id']);
    expect(capture!.responseBody?.toString()).toBe('resp');
    expect(capture!.responseBodyTruncated).toBe(false);
  });

  it('marks the body of a request refused before it was read as not whole, so it is never replayed', async () => {
    const { rig, heard } = await start();
    const { name } = await rig.agent({
      token: await agentKey(rig),
      policy: { authToken: 'sesame-1234', capture: { bodies: true } },
    });
    const res = await rig.send(name, {
      method: 'POST',
      body: 'never read',
      headers: { 'transfer-encoding': 'chunked' },
    });
    expect(res.status).toBe(401);
    const { capture, bytesIn } = await heard.one();
    expect(bytesIn).toBe(0);
    expect(capture).toMatchObject({ requestBody: null, requestBodyTruncated: true });
  });

  it('captures nothing for an anonymous tunnel, whatever its policy asks', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent({ policy: { capture: { bodies: true } } });
    agent.serve((stream) => {
      stream.on('data', () => undefined);
      stream.once('end', () => reply(stream, 200, [], 'fine'));
    });
    expect((await rig.send(name, { method: 'POST', body: 'secret stuff' })).status).toBe(200);
    const record = await heard.one();
    expect(record.userId).toBeNull();
    expect(record.capture).toBeNull();
  });

  it('keeps only headers without bodies, and nothing for tunnels that do not capture', async () => {
    const { rig, heard } = await start();
    const { agent, name } = await rig.agent({
      token: await agentKey(rig),
      policy: { capture: { bodies: false } },
    });
    agent.serve((stream) => {
      stream.on('data', () => undefined);
      stream.once('end', () => reply(stream, 200, [], 'body'));
    });
    await rig.send(name, { method: 'POST', body: 'up' });
    const { capture } = await heard.one();
    expect(capture).toMatchObject({ requestBody: null, responseBody: null });
    expect(capture!.responseHeaders.length).toBeGreaterThan(0);
    const plain = await rig.agent();
    await rig.send(plain.name);
    await until(() => heard.records.length === 2);
    expect(heard.records[1]!.capture).toBeNull();
  });
});

describe('Server-Timing', () => {
  it('answers with the edge, tunnel and origin times when the policy asks, even with nobody observing', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent({ policy: { serverTiming: true } });
    agent.serve((stream) => respondLater(stream, 30, 12.34, 'ok'));
    const res = await rig.send(name);
    const value = String(res.headers['server-timing']);
    const match = /^edge;dur=([0-9.]+), tunnel;dur=([0-9.]+), origin;dur=12\.3$/.exec(value);
    expect(match, value).not.toBeNull();
    expect(Number(match![2])).toBeGreaterThanOrEqual(17);
    expect(match![1]).toMatch(/^\d+(\.\d)?$/);
  });

  it('leaves the origin out when the agent did not time it, and sends none without the policy', async () => {
    rig = await startIngressRig();
    const timed = await rig.agent({ policy: { serverTiming: true } });
    timed.agent.serve((stream) => respondLater(stream, 0, undefined, 'ok'));
    expect(String((await rig.send(timed.name)).headers['server-timing'])).toMatch(
      /^edge;dur=[0-9.]+, tunnel;dur=[0-9.]+$/,
    );
    const plain = await rig.agent();
    expect((await rig.send(plain.name)).headers['server-timing']).toBeUndefined();
  });
});

/** A key of the rig's user: captures are kept only for tunnels someone owns. */
async function agentKey(rig: IngressRig): Promise<string> {
  const { secret } = await rig.gateway.store.createApiKey({ label: `k${Math.random()}`, scopes: ['agent'] });
  return secret;
}
