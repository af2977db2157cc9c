/**
 * The HTTPS listener as an operator starts it: the bundled `burrow-edge start --https-listen
 * … --tls-cert … --tls-key …`, a real agent and origin, curl over HTTP/2 and the plain
 * listener's redirect.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { createTestCa } from '../support/test-ca.js';
import { startAgent, startEdge, startOrigin, stopAll, tempDir } from './harness.js';
import { originHandler } from './origin.js';

const run = promisify(execFile);

afterAll(stopAll);

it('serves a tunnel over HTTPS and HTTP/2 with the certificate files, and redirects plain HTTP to it', async () => {
  const dir = tempDir();
  const ca = await createTestCa({ dir });
  const leaf = await ca.issue({ names: ['burrow.test', '*.burrow.test'], dir });
  const origin = await startOrigin(originHandler);
  const edge = await startEdge({
    args: ['--domain', 'burrow.test', '--https-listen', '127.0.0.1:0'].concat([
      '--tls-cert',
      leaf.certFile,
      '--tls-key',
      leaf.keyFile,
    ]),
  });
  const httpsPort = edge.proc.json.find((l) => typeof l.httpsPort === 'number')?.httpsPort as number;
  expect(httpsPort).toBeGreaterThan(0);
  const agent = await startAgent(edge, String(origin.port));
  const host = `${agent.name}.burrow.test`;
  expect(agent.url).toBe(`https://${host}:${httpsPort}`);

  const { stdout } = await run('curl', [
    '-s',
    '-S',
    '-i',
    '--http2',
    '--max-time',
    '10',
    '--cacert',
    ca.certFile,
    '--resolve',
    `${host}:${httpsPort}:127.0.0.1`,
    `${agent.url}/echo?via=cli`,
  ]);
  expect(stdout).toMatch(/^HTTP\/2 200/);
  expect(stdout).toContain('"X-Forwarded-Proto","https"');

  const plain = await run('curl', [
    '-s',
    '-i',
    '--max-time',
    '10',
    '-H',
    `Host: ${host}:${edge.port}`,
    `http://127.0.0.1:${edge.port}/a?b`,
  ]);
  expect(plain.stdout).toMatch(/^HTTP\/1\.1 308/);
  expect(plain.stdout).toMatch(new RegExp(`^location: https://${host}:${httpsPort}/a\\?b\\r?$`, 'im'));
}, 60_000);
