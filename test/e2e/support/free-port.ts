/**
 * Ports free on loopback right now, for servers a test starts that cannot take port 0.
 *
 * They are drawn below the kernel's ephemeral range (32768–60999 on Linux), where port 0
 * and every outgoing connection get theirs: a port picked from inside it can be taken by
 * any test's client connection in the moment between the pick and the server's bind (seen:
 * dnsmasq, given a UDP port, failing to bind TCP on it). Each candidate is bound to check it.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const LOW = 10_000;
const HIGH = 32_000;
const TRIES = 200;

function canBindTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

async function freePort(host: string, check: (port: number) => Promise<boolean>): Promise<number> {
  for (let i = 0; i < TRIES; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await check(port)) return port;
  }
  throw new Error(`no free port on ${host} in ${LOW}–${HIGH} after ${TRIES} tries`);
}

export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return freePort(host, (port) => canBindTcp(port, host));
}

/** Free for UDP and TCP both: DNS servers (dnsmasq, named, Pebble's challenge server) bind the two. */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return freePort(host, async (port) => (await canBindUdp(port, host)) && canBindTcp(port, host));
}
