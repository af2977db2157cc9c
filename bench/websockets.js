/**
 * Concurrent WebSocket echo: each client keeps one message in flight, sends the next when
 * the echo of the previous one arrives, and checks that the echo is byte-identical.
 */

import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import WebSocket from 'ws';

/**
 * @typedef {{ clients: number, messages: number, seconds: number, msgsPerS: number, mismatches: number }} EchoResult
 */

/**
 * @param {{ url: string, host?: string, clients: number, messageBytes: number, durationS: number }} o
 * @returns {Promise<EchoResult>}
 */
export async function websocketEcho(o) {
  const wsUrl = `${o.url.replace(/^http/, 'ws')}/ws`;
  /** @type {WebSocket[]} */
  const sockets = [];
  try {
    await Promise.all(
      Array.from({ length: o.clients }, () => {
        const ws = new WebSocket(wsUrl, {
          headers: o.host ? { host: o.host } : {},
          perMessageDeflate: false,
          handshakeTimeout: 10_000,
        });
        sockets.push(ws);
        return new Promise((resolveOpen, reject) => {
          ws.once('open', resolveOpen);
          ws.once('error', reject);
          ws.once('unexpected-response', (_req, res) =>
            reject(new Error(`upgrade refused: ${res.statusCode}`)),
          );
        });
      }),
    );

    let running = true;
    let messages = 0;
    let mismatches = 0;
    let inFlight = 0;
    /** @type {() => void} */
    let allLanded = () => undefined;
    const started = performance.now();
    for (const [i, ws] of sockets.entries()) {
      const message = Buffer.alloc(o.messageBytes, i & 0xff);
      let seq = 0;
      const send = () => {
        message.writeUInt32BE(seq, 0);
        inFlight += 1;
        ws.send(message, { binary: true });
      };
      ws.on('message', (data) => {
        inFlight -= 1;
        const echo = /** @type {Buffer} */ (data);
        if (echo.length !== message.length || echo.readUInt32BE(0) !== seq || !echo.equals(message))
          mismatches += 1;
        seq = (seq + 1) >>> 0;
        if (running) {
          messages += 1;
          send();
        } else if (inFlight === 0) allLanded();
      });
      send();
    }
    await new Promise((r) => setTimeout(r, o.durationS * 1000));
    running = false;
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolveLanded) => {
      allLanded = () => resolveLanded(undefined);
      if (inFlight === 0) allLanded();
      setTimeout(resolveLanded, 5000);
    });
    if (inFlight > 0) mismatches += inFlight;
    return { clients: o.clients, messages, seconds, msgsPerS: messages / seconds, mismatches };
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}
