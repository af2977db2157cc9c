// Transport failures: each is a TunnelError naming the server, and a stray packet never ends the wait.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelError } from '@burrow/protocol';
import { exchange } from './dns-transport.js';
import { OPCODE, RR_CLASS, RR_TYPE, encodeMessage } from './dns-wire.js';

const QUERY = encodeMessage({
  id: 0x1234,
  opcode: OPCODE.QUERY,
  questions: [{ name: 'tunnel.test.', type: RR_TYPE.SOA, class: RR_CLASS.IN }],
});

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A UDP peer on loopback that answers each datagram with what `reply` returns (several answers allowed). */
async function peer(reply: (msg: Buffer) => Buffer[]): Promise<number> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.on('message', (msg, from) => {
    for (const answer of reply(msg)) socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

async function rejection(action: Promise<unknown>): Promise<TunnelError> {
  const err = await action.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TunnelError);
  return err as TunnelError;
}

describe('exchange', () => {
  it('a server that never answers fails after two tries, naming it', async () => {
    const port = await peer(() => []);
    const started = performance.now();
    const err = await rejection(exchange({ host: '127.0.0.1', port }, QUERY, 150));
    expect(err.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(err.message).toContain(`127.0.0.1:${port} did not answer within 150 ms over UDP`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('ignores an answer with another ID and takes the right one', async () => {
    const port = await peer((msg) => {
      const wrong = Buffer.from(msg);
      wrong.writeUInt16BE(msg.readUInt16BE(0) ^ 0xffff, 0);
      return [wrong, msg];
    });
    const answer = await exchange({ host: '127.0.0.1', port }, QUERY, 1_000);
    expect(answer.readUInt16BE(0)).toBe(0x1234);
  });

  it('a datagram that cannot be sent is a TunnelError, not a raw socket error', async () => {
    // Port 0 cannot be sent to: the send throws before anything reaches the network.
    const started = performance.now();
    const err = await rejection(exchange({ host: '127.0.0.1', port: 0 }, QUERY, 5_000));
    expect(err.code).toBe('TUN_ERR_DNS_UPDATE_FAILED');
    expect(err.message).toMatch(/could not send to the DNS server 127\.0\.0\.1:0 over UDP: /);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a TCP server that is not there fails naming it', async () => {
    // The UDP answer says "truncated", so the exchange goes to TCP, where nothing listens.
    const port = await peer((msg) => {
      const truncated = Buffer.from(msg);
      truncated.writeUInt16BE(truncated.readUInt16BE(2) | 0x8200, 2);
      return [truncated];
    });
    const err = await rejection(exchange({ host: '127.0.0.1', port }, QUERY, 1_000));
    expect(err.message).toMatch(
      new RegExp(`could not reach the DNS server 127\\.0\\.0\\.1:${port} over TCP: .*ECONNREFUSED`),
    );
  });
});
