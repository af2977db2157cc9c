/**
 * One DNS exchange with one server: UDP first (what every server answers fastest), then TCP
 * when the answer comes back truncated (RFC 1035 §4.2.1, RFC 7766). Answers from another
 * address or with another ID are ignored, so a stray packet cannot end the wait. Every wait is
 * bounded by `timeoutMs`.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIP, connect } from 'node:net';
import { TunnelError } from '@burrow/protocol';

export interface DnsServerAddress {
  /** An IP address. */
  readonly host: string;
  readonly port: number;
}

export function formatServer(server: DnsServerAddress): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Tries over UDP this many times before giving up (a lost datagram is not a dead server). */
const UDP_ATTEMPTS = 2;

function noAnswer(server: DnsServerAddress, timeoutMs: number, over: string): TunnelError {
  return new TunnelError(
    'TUN_ERR_DNS_UPDATE_FAILED',
    `the DNS server ${formatServer(server)} did not answer within ${timeoutMs} ms over ${over}: check the address and port, and that it listens there`,
  );
}

function sameAddress(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

function udpExchange(
  server: DnsServerAddress,
  message: Buffer,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  const id = message.readUInt16BE(0);
  const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (answer: Buffer | undefined, err?: Error): void => {
      clearTimeout(timer);
      socket.close();
      if (err !== undefined) reject(err);
      else resolve(answer);
    };
    socket.on('message', (answer: Buffer, from: RemoteInfo) => {
      if (from.port !== server.port || !sameAddress(from.address, server.host)) return;
      if (answer.length < 12 || answer.readUInt16BE(0) !== id) return;
      finish(answer);
    });
    socket.once('error', (err) => finish(undefined, err));
    try {
      socket.send(message, server.port, server.host);
    } catch (err) {
      finish(undefined, err as Error);
    }
  });
}

function tcpExchange(server: DnsServerAddress, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => fail(noAnswer(server, timeoutMs, 'TCP')), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.end(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 2) return;
      const all = Buffer.concat(chunks);
      const length = all.readUInt16BE(0);
      if (all.length < 2 + length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(all.subarray(2, 2 + length));
    });
    socket.on('error', (err) =>
      fail(
        new TunnelError(
          'TUN_ERR_DNS_UPDATE_FAILED',
          `could not reach the DNS server ${formatServer(server)} over TCP: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    socket.on('end', () =>
      fail(
        new TunnelError(
          'TUN_ERR_DNS_UPDATE_FAILED',
          `the DNS server ${formatServer(server)} closed the TCP connection without an answer`,
        ),
      ),
    );
  });
}

/**
 * Sends `message` and resolves with the raw answer. A retried UPDATE is harmless: adding an
 * RR that exists, or deleting one that is gone, changes nothing (RFC 2136 §3.4.2).
 */
export async function exchange(
  server: DnsServerAddress,
  message: Buffer,
  timeoutMs: number,
): Promise<Buffer> {
  for (let attempt = 0; attempt < UDP_ATTEMPTS; attempt++) {
    const answer = await udpExchange(server, message, timeoutMs).catch((err: unknown) => {
      const detail = err instanceof Error ? err.message : String(err);
      throw new TunnelError(
        'TUN_ERR_DNS_UPDATE_FAILED',
        `could not send to the DNS server ${formatServer(server)} over UDP: ${detail}`,
        { cause: err },
      );
    });
    if (answer === undefined) continue;
    // TC bit: the answer did not fit a datagram; ask again over TCP for all of it.
    if ((answer.readUInt16BE(2) & 0x0200) !== 0) return tcpExchange(server, message, timeoutMs);
    return answer;
  }
  throw noAnswer(server, timeoutMs, 'UDP');
}
