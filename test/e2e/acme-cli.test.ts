/**
 * ACME HTTP-01 on demand as an operator runs it: the bundled `burrow-edge start` with
 * `--https-listen` and `--acme-*` flags (its plain listener on the port Pebble validates
 * HTTP-01 on), a real Pebble, a reserved name bound by a real `burrow http` agent with its
 * user's key, and curl trusting only Pebble's root. The first handshake for the name waits
 * for the order (within `acme.waitMs`) and gets the new certificate; `certs list` shows it; a
 * name without a tunnel gets an alert and no order; `certs remove` reaches the running edge at
 * its next renewal pass (every second here), and the next handshake orders again.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createApiKey,
  edgeCli,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tempDir,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';
import { freeTcpPort } from './support/free-port.js';
import { Pebble } from './support/pebble.js';

const run = promisify(execFile);
const DOMAIN = 'burrow.test';
let pebble: Pebble;
let edge: Edge;
let httpsPort = 0;
let rootFile = '';

beforeAll(async () => {
  const port = await freeTcpPort();
  pebble = await Pebble.start({ httpPort: port });
  rootFile = join(tempDir(), 'pebble-root.pem');
  writeFileSync(rootFile, await pebble.root());
  edge = await startEdge({
    port,
    env: { BURROW_ACME_RENEW_INTERVAL_MS: '1000' },
    args: [
      '--domain',
      DOMAIN,
      '--https-listen',
      '127.0.0.1:0',
      '--acme-email',
      `ops@${DOMAIN}`,
      '--acme-directory',
      pebble.directoryUrl,
      '--acme-ca-file',
      pebble.tlsCaFile,
    ],
  });
  httpsPort = edge.proc.json.find((l) => typeof l.httpsPort === 'number')?.httpsPort as number;
}, 60_000);

afterAll(async () => {
  await stopAll();
  await pebble?.stop();
});

function curl(host: string, path: string): Promise<{ stdout: string; stderr: string }> {
  return run('curl', [
    '-sS',
    '-i',
    '--max-time',
    '30',
    '--cacert',
    rootFile,
    '--resolve',
    `${host}:${httpsPort}:127.0.0.1`,
    `https://${host}:${httpsPort}${path}`,
  ]);
}

it('serves a reserved tunnel name over a certificate ordered by HTTP-01 during its first handshake', async () => {
  expect(httpsPort).toBeGreaterThan(0);
  const key = await createApiKey(edge.dataDir, 'alice');
  const reserved = await edgeCli(edge.dataDir, 'names', 'reserve', 'shop', '--user', 'alice');
  expect(reserved.code, reserved.stderr.join('\n')).toBe(0);
  const origin = await startOrigin(originHandler);
  const agent = await startAgent(edge, String(origin.port), { name: 'shop', token: key });
  const host = `shop.${DOMAIN}`;
  expect(agent.url).toBe(`https://${host}:${httpsPort}`);

  // The book has nothing for the name: this handshake waits for the order and gets its result.
  const first = await curl(host, '/echo?via=acme');
  expect(first.stdout, pebble.log().slice(-1500)).toMatch(/^HTTP\/2 200/);
  expect(first.stdout).toContain('"X-Forwarded-Proto","https"');
  const orders = edge.proc.json.filter((l) => l.msg === 'ACME order started');
  expect(orders.map((l) => l.name)).toEqual([host]);

  const list = await edgeCli(edge.dataDir, 'certs', 'list');
  expect(list.code, list.stderr.join('\n')).toBe(0);
  expect(list.stdout.join('\n')).toMatch(new RegExp(`${host.replace('.', '\\.')} .*Pebble Intermediate CA`));
}, 90_000);

it('orders nothing for a name without a tunnel: the handshake gets an alert', async () => {
  const host = `nobody-${Date.now().toString(36)}.${DOMAIN}`;
  await expect(curl(host, '/')).rejects.toThrow(/alert|handshake|SSL/i);
  expect(edge.proc.json.filter((l) => l.msg === 'ACME order started')).toHaveLength(1);
  const list = await edgeCli(edge.dataDir, 'certs', 'list', '--json');
  const names = (JSON.parse(list.stdout.join('\n')) as { name: string }[]).map((row) => row.name);
  expect(names).toEqual([`shop.${DOMAIN}`]);
});

it('certs remove: the running edge stops serving the certificate and the next handshake orders a new one', async () => {
  const host = `shop.${DOMAIN}`;
  const removed = await edgeCli(edge.dataDir, 'certs', 'remove', host);
  expect(removed.code, removed.stderr.join('\n')).toBe(0);
  expect(removed.stderr.join('\n')).toContain('stop serving it at their next renewal pass');
  await edge.proc.waitFor(
    () =>
      edge.proc.json.find(
        (l) => l.msg === 'certificate removed from the store; no longer served' && l.name === host,
      ),
    10_000,
    'the renewal pass to drop the removed certificate',
  );
  const again = await curl(host, '/echo?via=reorder');
  expect(again.stdout, pebble.log().slice(-1500)).toMatch(/^HTTP\/2 200/);
  const orders = edge.proc.json.filter((l) => l.msg === 'ACME order started');
  expect(orders.map((l) => l.name)).toEqual([host, host]);
}, 90_000);
