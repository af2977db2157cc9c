import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reply } from '../test-support/fake-agent.js';
import { RIG_DOMAIN, startIngressRig, type IngressRig } from '../test-support/ingress-rig.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** Sends a raw upgrade head and resolves with everything read until the status line's head ends. */
function upgrade(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

describe('a request is resolved once', () => {
  it('looks the registry and the policy book up once for a plain request', async () => {
    rig = await startIngressRig();
    const { name } = await rig.agent();
    rig.counts.registry = rig.counts.policies = 0;
    const res = await rig.send(name);
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok');
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
  });

  it('looks each up once for a tunnel with a policy, admitted or refused', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent({ policy: { authToken: 'sesame-1234' } });
    agent.serve((stream, head) => reply(stream, 200, [], head.headers.join('|')));
    rig.counts.registry = rig.counts.policies = 0;
    const refused = await rig.send(name);
    expect(refused.status).toBe(401);
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
    rig.counts.registry = rig.counts.policies = 0;
    const admitted = await rig.send(name, { headers: { authorization: 'Bearer sesame-1234' } });
    expect(admitted.status).toBe(200);
    expect(admitted.body).not.toContain('sesame-1234');
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
  });

  it('looks each up once when the warning gate decides for an anonymous tunnel', async () => {
    rig = await startIngressRig({ anonymousWarning: true });
    const { name } = await rig.agent();
    rig.counts.registry = rig.counts.policies = 0;
    const warned = await rig.send(name, { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    expect(warned.status).toBe(200);
    expect(warned.body).toContain(`${name}.${RIG_DOMAIN}`);
    expect(rig.gateway.sessions.size).toBe(1);
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
    rig.counts.registry = rig.counts.policies = 0;
    const api = await rig.send(name, { headers: { accept: 'application/json' } });
    expect(api.body).toBe('ok');
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
  });

  it('looks each up once for an upgrade', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) =>
      stream.respond(
        { status: 101, statusText: '', headers: ['Connection', 'Upgrade', 'Upgrade', 'websocket'] },
        {
          fin: false,
        },
      ),
    );
    rig.counts.registry = rig.counts.policies = 0;
    const head = await upgrade(rig.port, `${name}.${RIG_DOMAIN}`);
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(rig.counts).toEqual({ registry: 1, policies: 1 });
  });
});
