/**
 * Heads the protocol cannot carry, from either end, fail alone: the viewer gets a clear
 * answer with a code, a concurrent request on another tunnel of the same agent completes
 * untouched, and the agent keeps its one session.
 */

import { writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_CLI,
  createApiKey,
  Proc,
  startEdge,
  startOrigin,
  stopAll,
  tempDir,
  tunnelRequest,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';

let edge: Edge;
let agent: Proc;
const rawServers: net.Server[] = [];

/** Raw responses by request path: bytes no HTTP library would write. */
const RAW: Record<string, string> = {
  '/many': `HTTP/1.1 200 OK\r\n${Array.from({ length: 1200 }, (_, i) => `h${i}: v\r\n`).join('')}Content-Length: 2\r\n\r\nok`,
  '/099': 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok',
  '/ctl': 'HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok',
  '/euro': `HTTP/1.1 200 ${Buffer.from('€', 'utf8').toString('latin1')}\r\nContent-Length: 2\r\n\r\nok`,
};

async function rawOrigin(): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      const path = seen.split(' ')[1] ?? '/';
      socket.end(Buffer.from(RAW[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1'));
    });
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function connectedEvents(): number {
  return agent.json.filter((l) => l.event === 'connected').length;
}

/** `count` tiny header fields: about 8 bytes each, far under limits.maxHeaderBytes. */
function tinyHeaders(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`x-h${i}`, 'v');
  return out;
}

beforeAll(async () => {
  const web = await startOrigin(originHandler);
  const raw = await rawOrigin();
  edge = await startEdge();
  const token = await createApiKey(edge.dataDir);
  const file = join(tempDir(), 'burrow.yml');
  writeFileSync(
    file,
    `server: ${edge.url}\ntoken: ${token}\ntunnels:\n  web:\n    proto: http\n    addr: ${web.port}\n    name: heads-web\n  raw:\n    proto: http\n    addr: ${raw}\n    name: heads-raw\n`,
  );
  agent = new Proc([AGENT_CLI, 'start', '--config', file, '--log', 'json']);
  await agent.waitFor(
    () => (agent.json.filter((l) => l.event === 'tunnel').length === 2 ? true : undefined),
    15_000,
    'two tunnels',
  );
});

afterAll(async () => {
  for (const server of rawServers) server.close();
  await stopAll();
});

/** Sends raw request bytes to the edge and returns everything it answers until it closes. */
function rawExchange(request: string | Buffer): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(edge.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write(request);
  });
}

/**
 * Three requests that must each fail alone with `status` and `code`, while a slow request on
 * another tunnel of the same agent is served untouched and the agent never reconnects.
 */
async function failsAlone(
  send: () => ReturnType<typeof tunnelRequest>,
  status: number,
  code: string,
  body: RegExp,
): Promise<void> {
  const slow = tunnelRequest(edge, 'heads-web', '/slow?ms=1500');
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) {
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.headers['x-burrow-error']).toBe(code);
    expect(await res.body.text()).toMatch(body);
  }
  const done = await slow;
  expect(done.statusCode).toBe(200);
  expect(await done.body.text()).toBe('slow');
  expect(connectedEvents()).toBe(1);
}

describe('a viewer head with very many tiny headers', () => {
  it('gets 431 with a code, while another tunnel of the same agent serves on', async () => {
    await failsAlone(
      () => tunnelRequest(edge, 'heads-raw', '/ctl', { headers: tinyHeaders(1000) }),
      431,
      'TUN_ERR_HEADERS_TOO_LARGE',
      /header fields/,
    );
  });

  it('forwards a head under limits.maxHeaderCount whole, not truncated', async () => {
    const res = await tunnelRequest(edge, 'heads-web', '/echo', { headers: tinyHeaders(450) });
    expect(res.statusCode).toBe(200);
    const echoed = (await res.body.json()) as { rawHeaders: string[] };
    expect(echoed.rawHeaders.filter((h) => h.startsWith('x-h'))).toHaveLength(450);
  });

  it('answers 431, not a missing-Host 400, when Host comes after the field limit', async () => {
    const lines = Array.from({ length: 600 }, (_, i) => `x-h${i}: v`);
    const answer = await rawExchange(
      `GET / HTTP/1.1\r\n${lines.join('\r\n')}\r\nHost: ${edge.host('heads-web')}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/X-Burrow-Error: TUN_ERR_HEADERS_TOO_LARGE/i);
  });

  it('refuses an upgrade with too many headers the same way', async () => {
    const lines = tinyHeaders(1000).reduce<string[]>(
      (acc, item, i) =>
        i % 2 === 0 ? [...acc, `${item}: `] : [...acc.slice(0, -1), `${acc.at(-1)!}${item}`],
      [],
    );
    const answer = await rawExchange(
      `GET /ws HTTP/1.1\r\nHost: ${edge.host('heads-web')}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${lines.join('\r\n')}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toMatch(/X-Burrow-Error: TUN_ERR_HEADERS_TOO_LARGE/i);
  });
});

describe('an origin response head larger than a tunnel carries', () => {
  it('gives the viewer 502 with a code; another tunnel of the same agent serves on', async () => {
    await failsAlone(
      () => tunnelRequest(edge, 'heads-raw', '/many'),
      502,
      'TUN_ERR_HEAD_TOO_LARGE',
      /too large/,
    );
  });
});

describe('an origin status line that is not valid HTTP', () => {
  it('answers status 099 with 502 TUN_ERR_HEAD_INVALID and a readable reason', async () => {
    const res = await tunnelRequest(edge, 'heads-raw', '/099');
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-burrow-error']).toBe('TUN_ERR_HEAD_INVALID');
    const body = await res.body.text();
    expect(body).toMatch(/not a 3-digit HTTP status/);
    expect(body).not.toMatch(/assert/i);
  });

  it.each(['/ctl', '/euro'])('relays %s with the standard reason phrase', async (path) => {
    const answer = await rawExchange(
      `GET ${path} HTTP/1.1\r\nHost: ${edge.host('heads-raw')}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(answer.endsWith('ok')).toBe(true);
    expect(connectedEvents()).toBe(1);
  });
});

describe("the edge parser's own refusals", () => {
  it.each([
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n', 400],
    [
      'a head over limits.maxHeaderBytes',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
  ])('answers %s with a stable code in X-Burrow-Error', async (_what, bytes, status) => {
    const answer = await rawExchange(bytes);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer).toMatch(/\r\nX-Burrow-Error: TUN_ERR_[A-Z_]+\r\n/);
  });
});
