/**
 * `limits.connectionsPerIp`: open TCP connections to the public listener per client
 * address. Counted at the server's 'connection' event, before any byte is parsed, so a
 * client holding idle sockets open cannot starve the listener for everyone else.
 */

import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CATALOG, type ErrorCode } from '@burrow/protocol';
import { peerAddressOf } from '../listeners/peer-address.js';
import { formatRawResponse } from './raw-response.js';
import { viewerKey } from './viewer-key.js';

/** The stable code in `X-Burrow-Error` on the refusal. */
export const TOO_MANY_CONNECTIONS = 'EDGE_TOO_MANY_CONNECTIONS' satisfies ErrorCode;

/** A refused socket the client never closes is cut after this long. */
const REFUSED_LINGER_MS = 5_000;

/**
 * Open-connection counts by client key. Memory is bounded by the number of open sockets:
 * a key is dropped the moment its count returns to zero, so no LRU is needed.
 * Not thread-safe (none of Node is); `release` must be called once per successful `acquire`.
 */
export class ConnectionCounter {
  readonly max: number;
  readonly #open = new Map<string, number>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
    this.max = max;
  }

  /** Keys with at least one open connection. */
  get size(): number {
    return this.#open.size;
  }

  /** Open connections counted for `key`. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** Counts one more connection for `key`; false (and nothing counted) when it is at the limit. */
  acquire(key: string): boolean {
    const now = this.count(key);
    if (now >= this.max) return false;
    this.#open.set(key, now + 1);
    return true;
  }

  release(key: string): void {
    const now = this.count(key);
    if (now <= 1) this.#open.delete(key);
    else this.#open.set(key, now - 1);
  }
}

/** Why a connection (or an HTTP/2 WebSocket, which counts as one) was refused. */
export function tooManyConnectionsText(max: number): string {
  return (
    `this edge accepts at most ${max} open connections from one address, ` +
    'and yours has that many open. Close some and try again.'
  );
}

/**
 * Answers a refused connection with the complete 429, before the client sends anything,
 * `requestId` in `X-Request-Id` when given; answers the body bytes written.
 */
export function answerTooManyConnections(socket: Socket, max: number, requestId?: string): number {
  const body = `429 Too Many Requests: ${tooManyConnectionsText(max)}\n`;
  const extra = ['Retry-After', '1', 'X-Burrow-Error', TOO_MANY_CONNECTIONS];
  if (requestId !== undefined) extra.push('X-Request-Id', requestId);
  // end() rather than destroy(): a reset could discard the 429 before the client reads it.
  socket.end(formatRawResponse(ERROR_CATALOG[TOO_MANY_CONNECTIONS].status, body, extra));
  return Buffer.byteLength(body);
}

export interface ConnectionLimitOptions {
  /** Peers whose connections are not counted (trusted proxies, whose clients are known only per request). */
  exempt?: (address: string) => boolean;
  /** Writes the refusal to a connection over the limit; default `answerTooManyConnections` (the ingress also records it). */
  answer?: (socket: Socket, max: number) => void;
}

/**
 * Enforces the limit on `server`, per the connection's client (a PROXY header's source, else
 * the socket's peer). Returns the sockets that were refused: the HTTP parser
 * still reads them (Node attaches it before any listener of ours runs), so request and
 * upgrade handlers must ignore requests arriving on one of them.
 */
export function limitConnections(
  server: Server,
  counter: ConnectionCounter,
  options: ConnectionLimitOptions = {},
): WeakSet<Socket> {
  const refused = new WeakSet<Socket>();
  const answer = options.answer ?? ((socket, max) => answerTooManyConnections(socket, max));
  server.prependListener('connection', (socket: Socket) => {
    const address = peerAddressOf(socket);
    if (options.exempt?.(address) === true) return;
    const key = viewerKey(address);
    if (counter.acquire(key)) {
      socket.once('close', () => counter.release(key));
      return;
    }
    refused.add(socket);
    answer(socket, counter.max);
    socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
  });
  return refused;
}
