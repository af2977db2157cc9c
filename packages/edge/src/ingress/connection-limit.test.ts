import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { AddressBlocks } from '../listeners/address-blocks.js';
import { ProxyProtocolListener, serverTarget } from '../listeners/proxy-protocol-listener.js';
import { ConnectionCounter, limitConnections, TOO_MANY_CONNECTIONS } from './connection-limit.js';
import { viewerKey } from './viewer-key.js';

describe('viewerKey', () => {
  it('counts IPv4 (mapped or not) by address and IPv6 by its /64', () => {
    expect(viewerKey('203.0.113.9')).toBe('203.0.113.9');
    expect(viewerKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(viewerKey('2001:db8:1:2::1')).toBe(viewerKey('2001:db8:1:2:ffff::9%eth0'));
    expect(viewerKey('2001:db8:1:2::1')).not.toBe(viewerKey('2001:db8:1:3::1'));
    expect(viewerKey(undefined)).toBe(viewerKey(''));
  });
});

describe('ConnectionCounter', () => {
  it('refuses the connection over the limit and admits one again after a release', () => {
    const counter = new ConnectionCounter(2);
    expect(counter.acquire('a')).toBe(true);
    expect(counter.acquire('a')).toBe(true);
    expect(counter.acquire('a')).toBe(false);
    expect(counter.acquire('b')).toBe(true);
    expect(counter.count('a')).toBe(2);
    counter.release('a');
    expect(counter.acquire('a')).toBe(true);
  });

  it('forgets a key once its last connection closes, so memory follows open sockets', () => {
    const counter = new ConnectionCounter(3);
    for (let i = 0; i < 1000; i++) {
      counter.acquire(`k${i}`);
      counter.release(`k${i}`);
    }
    expect(counter.size).toBe(0);
  });

  it('rejects a limit below 1', () => {
    expect(() => new ConnectionCounter(0)).toThrow(RangeError);
  });
});

describe('limitConnections on a real listener', () => {
  let server: Server;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function open(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
      sockets.push(s);
    });
  }

  function readAll(s: Socket): Promise<string> {
    return new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.once('close', () => resolve(text));
    });
  }

  it('answers the connection over the limit with 429 and counts a closed one free again', async () => {
    server = createServer((_req, res) => res.end('ok'));
    const counter = new ConnectionCounter(2);
    limitConnections(server, counter);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const [a] = [await open(port), await open(port)];
    const third = await open(port);
    const answer = await readAll(third);
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toContain(`X-Burrow-Error: ${TOO_MANY_CONNECTIONS}`);
    expect(answer).toMatch(/at most 2 open connections/);
    a.destroy();
    await new Promise((r) => a.once('close', r));
    // The server sees the close a moment after the client does.
    for (let i = 0; i < 50 && counter.count('127.0.0.1') > 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(counter.count('127.0.0.1')).toBe(1);
    const fourth = await open(port);
    fourth.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await readAll(fourth)).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('counts the client a PROXY header names, not the balancer', async () => {
    server = createServer((_req, res) => res.end('ok'));
    const counter = new ConnectionCounter(1);
    limitConnections(server, counter);
    const front = new ProxyProtocolListener(serverTarget(server), {
      from: AddressBlocks.parse([]),
      headerTimeoutMs: 5_000,
      timers: realTimers,
    });
    await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
    const { port } = front.server.address() as AddressInfo;
    const send = async (client: string): Promise<Socket> => {
      const s = await open(port);
      s.write(`PROXY TCP4 ${client} 127.0.0.1 1000 80\r\n`);
      return s;
    };
    await send('203.0.113.1');
    const other = await send('203.0.113.2');
    const same = await send('203.0.113.1');
    expect(await readAll(same)).toMatch(/^HTTP\/1\.1 429 /);
    other.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await readAll(other)).toMatch(/^HTTP\/1\.1 200 /);
    front.server.close();
  });

  it('does not count connections from an exempt peer (a trusted proxy carrying many clients)', async () => {
    server = createServer((_req, res) => res.end('ok'));
    const counter = new ConnectionCounter(1);
    limitConnections(server, counter, { exempt: (address) => address === '127.0.0.1' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const [, second] = [await open(port), await open(port)];
    second.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await readAll(second)).toMatch(/^HTTP\/1\.1 200 /);
    expect(counter.size).toBe(0);
  });
});
