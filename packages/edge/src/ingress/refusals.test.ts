import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../gateway/test-support/gateway-rig.js';
import { NO_TUNNEL, type RequestRecord } from '../store/request-records.js';
import {
  RIG_DOMAIN,
  startIngressRig,
  type IngressRig,
  type IngressRigOptions,
} from '../test-support/ingress-rig.js';

let rig: IngressRig | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await rig?.close();
  rig = null;
});

async function start(
  options: IngressRigOptions = {},
): Promise<{ rig: IngressRig; records: RequestRecord[] }> {
  const records: RequestRecord[] = [];
  rig = await startIngressRig({ ...options, observer: { record: (r) => records.push(r) } });
  return { rig, records };
}

/** Writes `text` on a fresh connection and reads until the edge closes it. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    sockets.push(socket);
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(got));
  });
}

/** The one record that arrived, after a moment in which a second would have shown up. */
async function onlyRecord(records: RequestRecord[]): Promise<RequestRecord> {
  await until(() => records.length > 0, 5000, 'a refusal record');
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(records).toHaveLength(1);
  return records[0]!;
}

function bodyBytes(raw: string): number {
  return Buffer.byteLength(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'latin1');
}

function expectEdgeTime(record: RequestRecord): void {
  expect(record.timing.totalMs).toBeGreaterThanOrEqual(0);
  expect(record.timing).toEqual({
    edgeMs: null,
    tunnelMs: null,
    originMs: null,
    totalMs: record.timing.totalMs,
  });
}

describe('refusals before an exchange reach the observer', () => {
  it('over the per-address rate limit, to a served tunnel: its name, owner, request id, status, code', async () => {
    const { rig, records } = await start({ limits: { requestsPerSecondPerIp: 1 } });
    const { secret } = await rig.gateway.store.createApiKey({ label: 'rl', scopes: ['agent'] });
    const { agent, name } = await rig.agent({ token: secret });
    agent.serve((stream) => stream.respond({ status: 204, statusText: '', headers: [] }, { fin: true }));
    expect((await rig.send(name)).status).toBe(204);
    await until(() => records.length === 1);
    records.length = 0;

    const res = await rig.send(name, { method: 'POST', path: '/hook?a=1' });
    expect(res.status).toBe(429);
    const record = await onlyRecord(records);
    expect(record).toMatchObject({
      id: res.headers['x-request-id'],
      tunnel: name,
      userId: rig.gateway.registry.lookup(name)!.userId,
      method: 'POST',
      path: '/hook?a=1',
      host: `${name}.${RIG_DOMAIN}`,
      status: 429,
      upgrade: false,
      bytesIn: 0,
      bytesOut: Buffer.byteLength(res.body),
      clientAddress: '127.0.0.1',
      errorCode: 'EDGE_RATE_LIMITED',
      capture: null,
    });
    expect(record.userId).toMatch(/.+/);
    expectEdgeTime(record);
  });

  it('over the rate limit for a name no agent serves: no tunnel (so nothing is stored for it)', async () => {
    const { rig, records } = await start({ limits: { requestsPerSecondPerIp: 1 } });
    expect((await rig.send('nobody')).status).toBe(404);
    await until(() => records.length === 1);
    records.length = 0;
    const res = await rig.send('nobody');
    expect(res.status).toBe(429);
    expect(await onlyRecord(records)).toMatchObject({
      id: res.headers['x-request-id'],
      tunnel: NO_TUNNEL,
      userId: null,
      host: `nobody.${RIG_DOMAIN}`,
      errorCode: 'EDGE_RATE_LIMITED',
    });
  });

  it('a request target over maxUrlBytes: 414 with the path as sent (cut)', async () => {
    const { rig, records } = await start({ limits: { maxUrlBytes: 100 } });
    const { name } = await rig.agent();
    const path = `/${'x'.repeat(3000)}`;
    const res = await rig.send(name, { path });
    expect(res.status).toBe(414);
    const record = await onlyRecord(records);
    expect(record).toMatchObject({
      id: res.headers['x-request-id'],
      tunnel: name,
      userId: null,
      status: 414,
      errorCode: 'TUN_ERR_URL_TOO_LONG',
      path: path.slice(0, 2048),
    });
    expectEdgeTime(record);
  });

  it('more header fields than maxHeaderCount: 431', async () => {
    const { rig, records } = await start({ limits: { maxHeaderCount: 5 } });
    const headers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-h${i}`, 'v']));
    const res = await rig.send('any', { headers });
    expect(res.status).toBe(431);
    expect(await onlyRecord(records)).toMatchObject({
      id: res.headers['x-request-id'],
      tunnel: NO_TUNNEL,
      status: 431,
      errorCode: 'TUN_ERR_HEADERS_TOO_LARGE',
    });
  });

  it('a Host outside the domain: 404 TUN_ERR_TUNNEL_NOT_FOUND with the host it named', async () => {
    const { rig, records } = await start();
    const res = await rig.send('', { host: 'elsewhere.example.org', path: '/x' });
    expect(res.status).toBe(404);
    expect(await onlyRecord(records)).toMatchObject({
      id: res.headers['x-request-id'],
      tunnel: NO_TUNNEL,
      host: 'elsewhere.example.org',
      path: '/x',
      status: 404,
      errorCode: 'TUN_ERR_TUNNEL_NOT_FOUND',
    });
  });

  it('an invalid Host: 400', async () => {
    const { rig, records } = await start();
    const res = await rig.send('', { host: 'bad host!' });
    expect(res.status).toBe(400);
    expect(await onlyRecord(records)).toMatchObject({
      id: res.headers['x-request-id'],
      status: 400,
      tunnel: NO_TUNNEL,
    });
  });

  it('an upgrade over the rate limit: recorded as an upgrade', async () => {
    const { rig, records } = await start({ limits: { requestsPerSecondPerIp: 1 } });
    const { name } = await rig.agent();
    const upgrade = `GET /ws HTTP/1.1\r\nHost: ${name}.${RIG_DOMAIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;
    // The first takes the one token (the agent never answers it; its socket goes in afterEach).
    const first = connect(rig.port, '127.0.0.1', () => first.write(upgrade));
    first.on('error', () => undefined);
    sockets.push(first);
    const answer = await rawExchange(rig.port, upgrade);
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(await onlyRecord(records)).toMatchObject({
      tunnel: name,
      upgrade: true,
      status: 429,
      errorCode: 'EDGE_RATE_LIMITED',
      bytesOut: bodyBytes(answer),
      id: /X-Request-Id: (\S+)/.exec(answer)![1],
    });
  });

  it('CONNECT: 405 with its method and target', async () => {
    const { rig, records } = await start();
    const answer = await rawExchange(
      rig.port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 405 /);
    expect(await onlyRecord(records)).toMatchObject({
      method: 'CONNECT',
      path: 'example.com:443',
      status: 405,
      errorCode: 'TUN_ERR_METHOD_NOT_ALLOWED',
      tunnel: NO_TUNNEL,
    });
  });

  it('a connection over connectionsPerIp: one record, no request, before any byte was sent', async () => {
    const { rig, records } = await start({ limits: { connectionsPerIp: 1 } });
    const held = connect(rig.port, '127.0.0.1');
    sockets.push(held);
    await new Promise((resolve) => held.once('connect', resolve));
    const answer = await rawExchange(rig.port, '');
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    const record = await onlyRecord(records);
    expect(record).toMatchObject({
      id: /X-Request-Id: (\S+)/.exec(answer)![1],
      tunnel: NO_TUNNEL,
      method: '',
      path: '',
      host: '',
      clientAddress: '127.0.0.1',
      status: 429,
      errorCode: 'EDGE_TOO_MANY_CONNECTIONS',
      bytesOut: bodyBytes(answer),
    });
    expect(record.timing.totalMs).toBe(0);
  });

  it('a head node:http cannot parse: 400 TUN_ERR_MALFORMED_REQUEST', async () => {
    const { rig, records } = await start();
    const answer = await rawExchange(rig.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await onlyRecord(records)).toMatchObject({
      id: /X-Request-Id: (\S+)/.exec(answer)![1],
      method: '',
      status: 400,
      errorCode: 'TUN_ERR_MALFORMED_REQUEST',
      clientAddress: '127.0.0.1',
    });
  });

  it("a bad body of a request an exchange has: one record, the exchange's", async () => {
    const { rig, records } = await start();
    const { secret } = await rig.gateway.store.createApiKey({ label: 'bb', scopes: ['agent'] });
    const { agent, name } = await rig.agent({ token: secret });
    // The origin never answers: the exchange still has the response when the body goes bad.
    agent.serve(() => undefined);
    const answer = await rawExchange(
      rig.port,
      `POST /hook HTTP/1.1\r\nHost: ${name}.${RIG_DOMAIN}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const record = await onlyRecord(records);
    expect(record).toMatchObject({ tunnel: name, method: 'POST', path: '/hook' });
    expect(record.errorCode).not.toBe('TUN_ERR_MALFORMED_REQUEST');
  });

  it('CONNECT on a connection already refused over connectionsPerIp: no second answer, no second record', async () => {
    const { rig, records } = await start({ limits: { connectionsPerIp: 1 } });
    const held = connect(rig.port, '127.0.0.1');
    sockets.push(held);
    await new Promise((resolve) => held.once('connect', resolve));
    const answer = await rawExchange(
      rig.port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(await onlyRecord(records)).toMatchObject({ status: 429, errorCode: 'EDGE_TOO_MANY_CONNECTIONS' });
    held.destroy();
    // The edge is still there (once the held connection's slot is free).
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      status = (await rig.send('', { host: RIG_DOMAIN, path: '/health' })).status;
    }
    expect(status).toBe(200);
  });

  it('records nothing for requests it served, and for the edge’s own routes', async () => {
    const { rig, records } = await start();
    const res = await rig.send('', { host: `${RIG_DOMAIN}`, path: '/health' });
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(records).toEqual([]);
  });
});
