import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, TunnelError, type ErrorCode } from '@burrow/protocol';
import { reply } from '../test-support/fake-agent.js';
import { startIngressRig, type IngressRig, type RigResponse } from '../test-support/ingress-rig.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

function expectFailure(res: RigResponse, code: ErrorCode): void {
  expect(res.status).toBe(ERROR_CATALOG[code].status);
  expect(res.headers['x-burrow-error']).toBe(code);
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.body).toContain(code);
}

describe('HttpExchange', () => {
  it('forwards the head and streams the body both ways, adding X-Request-Id', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream, head) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', () => {
        const body = `${head.method} ${head.path} ${Buffer.concat(chunks).toString()}`;
        stream.respond(
          { status: 201, statusText: 'Made', headers: ['B-Second', '2', 'A-First', '1'] },
          { fin: false },
        );
        stream.write(Buffer.from(body.slice(0, 5)));
        stream.write(Buffer.from(body.slice(5)));
        stream.end();
      });
    });
    const res = await rig.send(name, { method: 'POST', path: '/up?x=1', body: 'hello there' });
    expect(res.status).toBe(201);
    expect(res.body).toBe('POST /up?x=1 hello there');
    expect(Object.keys(res.headers).slice(0, 2)).toEqual(['b-second', 'a-first']);
    expect(res.headers['x-request-id']).toBe(agent.opened[0]!.requestId);
  });

  it('answers a reset before the head with the page and code the agent gave', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => stream.reset(new TunnelError('TUN_ERR_ORIGIN_REFUSED', 'nothing on port 3000')));
    expectFailure(await rig.send(name), 'TUN_ERR_ORIGIN_REFUSED');
  });

  it('times out an agent that never answers', async () => {
    rig = await startIngressRig({ requestTimeoutMs: 100 });
    const { agent, name } = await rig.agent();
    agent.serve(() => undefined);
    expectFailure(await rig.send(name), 'TUN_ERR_ORIGIN_TIMEOUT');
  });

  it('refuses a response head that is not valid HTTP', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) =>
      reply(stream, 200, ['Content-Length', '2', 'Transfer-Encoding', 'chunked'], 'hi'),
    );
    expectFailure(await rig.send(name), 'TUN_ERR_HEAD_INVALID');
  });

  it('answers a body longer than its Content-Length with a page while the head is still held', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => reply(stream, 200, ['Content-Length', '2'], 'too long'));
    expectFailure(await rig.send(name), 'TUN_ERR_BODY_LENGTH');
  });

  it('cuts a response whose body stalls after its head', async () => {
    rig = await startIngressRig({ responseIdleMs: 100 });
    const { agent, name } = await rig.agent();
    agent.serve((stream) => {
      stream.respond({ status: 200, statusText: '', headers: ['Content-Length', '10'] }, { fin: false });
      stream.write(Buffer.from('abc'));
    });
    await expect(rig.send(name)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });

  it('says why when no agent serves the name', async () => {
    rig = await startIngressRig();
    expectFailure(await rig.send('nobody'), 'TUN_ERR_TUNNEL_NOT_FOUND');
  });

  it('answers a bodiless response at once and leaves the session up', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => reply(stream, 204, ['X-Ok', 'fine']));
    expect((await rig.send(name)).status).toBe(204);
    expect(rig.gateway.sessions.size).toBe(1);
    expect(rig.errors).toEqual([]);
  });
});
