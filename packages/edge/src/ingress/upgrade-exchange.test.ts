import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { RIG_DOMAIN, startIngressRig, type IngressRig } from '../test-support/ingress-rig.js';

let rig: IngressRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/** A raw upgrade request; `read` resolves once the received text satisfies `done`. */
function openUpgrade(
  port: number,
  name: string,
): { socket: Socket; read(done: (t: string) => boolean): Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: ${name}.${RIG_DOMAIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
  );
  let text = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', () => {
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => undefined);
  return {
    socket,
    async read(done) {
      while (!done(text) && !socket.destroyed) await new Promise<void>((r) => waiters.push(r));
      return text;
    },
  };
}

describe('UpgradeExchange', () => {
  it('turns a 101 into a two-way byte pipe', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => {
      stream.respond(
        { status: 101, statusText: '', headers: ['Connection', 'Upgrade', 'Upgrade', 'websocket'] },
        { fin: false },
      );
      stream.on('data', (c: Buffer) => stream.write(Buffer.from(`echo:${c.toString()}`)));
    });
    const viewer = openUpgrade(rig.port, name);
    await viewer.read((t) => t.includes('\r\n\r\n'));
    viewer.socket.write('ping');
    const text = await viewer.read((t) => t.includes('echo:ping'));
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    viewer.socket.destroy();
  });

  it('relays a refusal with Connection: close', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => {
      stream.respond({ status: 403, statusText: '', headers: ['Content-Length', '2'] }, { fin: false });
      stream.write(Buffer.from('no'));
      stream.end();
    });
    const text = await openUpgrade(rig.port, name).read((t) => t.endsWith('no'));
    expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(text).toContain('Connection: close\r\n');
  });

  it('writes a reset before the head as the raw error page with its code', async () => {
    rig = await startIngressRig();
    const { agent, name } = await rig.agent();
    agent.serve((stream) => stream.reset(new TunnelError('TUN_ERR_ORIGIN_REFUSED', 'nothing listens')));
    const text = await openUpgrade(rig.port, name).read(() => false);
    expect(text).toMatch(/^HTTP\/1\.1 502 /);
    expect(text).toContain('X-Burrow-Error: TUN_ERR_ORIGIN_REFUSED\r\n');
    expect(text).toContain('nothing listens');
  });

  it('times out an agent that never answers the upgrade', async () => {
    rig = await startIngressRig({ requestTimeoutMs: 100 });
    const { agent, name } = await rig.agent();
    agent.serve(() => undefined);
    const text = await openUpgrade(rig.port, name).read(() => false);
    expect(text).toContain('X-Burrow-Error: TUN_ERR_ORIGIN_TIMEOUT\r\n');
  });
});
