/**
 * The HTTPS listener behind a load balancer in TCP mode: Debian's haproxy (`mode tcp`,
 * `send-proxy-v2`) in front of the bundled edge's HTTPS port, TLS terminated at the edge.
 * Viewers (curl, bound to 127.0.0.2 and 127.0.0.3) reach it only through haproxy, so the
 * PROXY header read before TLS is the only way the edge can tell them apart.
 */

import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa } from '../support/test-ca.js';
import { startAgent, startEdge, startOrigin, stopAll, tempDir, type Agent, type Edge } from './harness.js';
import { originHandler } from './origin.js';
import { startHaproxy, type Haproxy } from './test-support/haproxy.js';

const run = promisify(execFile);

/** haproxy's connections to the edge leave from here; only it must send a PROXY header. */
const BALANCER = '127.0.0.4';

let edge: Edge;
let httpsPort: number;
let caFile: string;
let haproxy: Haproxy;
let onlyTwo: Agent;
let open: Agent;

beforeAll(async () => {
  const dir = tempDir();
  const ca = await createTestCa({ dir });
  caFile = ca.certFile;
  const leaf = await ca.issue({ names: ['burrow.test', '*.burrow.test'], dir });
  const origin = await startOrigin(originHandler);
  edge = await startEdge({
    args: ['--domain', 'burrow.test', '--https-listen', '127.0.0.1:0'].concat(
      ['--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile],
      ['--proxy-protocol', '--proxy-protocol-from', BALANCER],
    ),
  });
  httpsPort = edge.proc.json.find((l) => typeof l.httpsPort === 'number')?.httpsPort as number;
  // Agents reach the plain listener directly (not from BALANCER: no header expected of them).
  onlyTwo = await startAgent(edge, String(origin.port), { args: ['--allow-ip', '127.0.0.2'] });
  open = await startAgent(edge, String(origin.port));
  haproxy = await startHaproxy([
    { mode: 'proxy-v2', backend: { host: '127.0.0.1', port: httpsPort }, source: BALANCER },
  ]);
}, 60_000);

afterAll(async () => {
  await haproxy?.stop();
  await stopAll();
});

type Version = '--http1.1' | '--http2';

/** curl from `from` through haproxy to tunnel `agent` over HTTPS; status line, X-Burrow-Error, body. */
async function viaHaproxy(
  version: Version,
  from: string,
  agent: Agent,
): Promise<{ status: string; error: string | undefined; body: string }> {
  const port = haproxy.ports[0]!;
  const host = `${agent.name}.burrow.test`;
  const { stdout } = await run('curl', [
    '-s',
    '-S',
    '-i',
    version,
    '--max-time',
    '10',
    '--interface',
    from,
    '--cacert',
    caFile,
    '--resolve',
    `${host}:${port}:127.0.0.1`,
    `https://${host}:${port}/echo`,
  ]);
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split);
  return {
    status: head.split('\r\n')[0]!,
    error: /^x-burrow-error: *(\S+)/im.exec(head)?.[1],
    body: stdout.slice(split + 4),
  };
}

/** The values of `name` in the origin's echo of the request's raw headers. */
function originSaw(body: string, name: string): string[] {
  const { rawHeaders } = JSON.parse(body) as { rawHeaders: string[] };
  return rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === name);
}

describe.each<Version>(['--http1.1', '--http2'])(
  'HTTPS behind haproxy send-proxy-v2 (curl %s)',
  (version) => {
    const proto = version === '--http2' ? 'HTTP/2' : 'HTTP/1.1';

    it('--allow-ip 127.0.0.2 admits the .2 viewer and refuses the .3 viewer', async () => {
      const admitted = await viaHaproxy(version, '127.0.0.2', onlyTwo);
      expect(admitted.status).toMatch(new RegExp(`^${proto} 200`));
      const refused = await viaHaproxy(version, '127.0.0.3', onlyTwo);
      expect(refused.status).toMatch(new RegExp(`^${proto} 403`));
      expect(refused.error).toBe('POLICY_IP_DENIED');
    });

    it('the origin sees the viewer, not haproxy, in X-Forwarded-For', async () => {
      const { status, body } = await viaHaproxy(version, '127.0.0.3', open);
      expect(status).toMatch(new RegExp(`^${proto} 200`));
      expect(originSaw(body, 'x-forwarded-for')).toEqual(['127.0.0.3']);
      expect(originSaw(body, 'x-forwarded-proto')).toEqual(['https']);
    });
  },
);

describe('a malformed PROXY header on the HTTPS port', () => {
  it('closes only that connection: viewers behind haproxy keep being served', async () => {
    const text = await new Promise<string>((resolve) => {
      const socket = connect({ port: httpsPort, host: '127.0.0.1', localAddress: BALANCER }, () =>
        socket.write('PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\n'),
      );
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(got));
    });
    expect(text).toBe('');
    await edge.proc.waitFor(
      () =>
        edge.proc.json.find(
          (l) =>
            l.msg === 'closed a connection without a valid PROXY protocol header' && l.listener === 'https',
        ),
      5_000,
      'the refusal in the log, naming the HTTPS listener',
    );
    expect((await viaHaproxy('--http2', '127.0.0.2', onlyTwo)).status).toMatch(/^HTTP\/2 200/);
  });
});
