/**
 * The least a Node.js process in the path can cost: a TCP pipe with no logic. Each accepted
 * connection is joined to a new connection to the target, bytes copied both ways with
 * backpressure (`pipe`), Nagle off as in the edge and the agent. `bench/floor.js` chains
 * one or two of these in front of the origin.
 *
 * Usage: node bench/pipe.js --target PORT. Prints {"event":"listening","port":N}.
 */

import { connect, createServer } from 'node:net';
import process from 'node:process';

const targetFlag = process.argv.indexOf('--target');
const target = Number(process.argv[targetFlag + 1]);
if (targetFlag === -1 || !Number.isInteger(target)) {
  process.stderr.write('usage: node bench/pipe.js --target PORT\n');
  process.exit(2);
}

const server = createServer((viewer) => {
  viewer.setNoDelay(true);
  const upstream = connect(target, '127.0.0.1');
  upstream.setNoDelay(true);
  viewer.pipe(upstream).on('error', () => viewer.destroy());
  upstream.pipe(viewer).on('error', () => upstream.destroy());
  viewer.on('error', () => upstream.destroy());
  upstream.on('error', () => viewer.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: address.port })}\n`);
});
for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) process.on(signal, () => process.exit(0));
