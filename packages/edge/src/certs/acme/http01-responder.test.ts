import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '../../config/index.js';
import { EdgeServer } from '../../server.js';

let dir = '';
let edge: EdgeServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'burrow-http01-'));
  const config = loadEdgeConfig({
    flags: { listen: '127.0.0.1:0', domain: 'burrow.test', data: dir, logLevel: 'silent' },
    env: {},
    cwd: dir,
  });
  edge = await EdgeServer.start({ config });
  await edge.store.putAcmeChallenge('tok_en-1', 'tok_en-1.thumbprint', new Date(Date.now() + 60_000));
});

afterAll(async () => {
  await edge.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  code: string | undefined;
  type: string | undefined;
  location: string | undefined;
  body: string;
}

function get(host: string, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: edge.port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          code: res.headers['x-burrow-error'] as string | undefined,
          type: res.headers['content-type'],
          location: res.headers.location,
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP-01 answers on the plain listener, before tunnel routing', () => {
  it('answers a pending token for any Host: a tunnel host, a custom domain, the edge, an IP', async () => {
    for (const host of ['app.burrow.test', 'shop.example.org', 'burrow.test', '127.0.0.1']) {
      const answer = await get(host, '/.well-known/acme-challenge/tok_en-1');
      expect(answer, host).toMatchObject({ status: 200, body: 'tok_en-1.thumbprint', location: undefined });
      expect(answer.type).toMatch(/^text\/plain/);
    }
  });

  it('routes an unknown or malformed token like any request (here no tunnel: not found)', async () => {
    for (const path of [
      '/.well-known/acme-challenge/nope',
      '/.well-known/acme-challenge/a%2Fb',
      '/.well-known/acme-challenge/',
    ]) {
      const answer = await get('app.burrow.test', path);
      expect(answer.status, path).toBe(404);
      expect(answer.code, path).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
    }
  });

  it('routes a removed token', async () => {
    await edge.store.putAcmeChallenge('gone', 'gone.x', new Date(Date.now() + 60_000));
    expect((await get('x.burrow.test', '/.well-known/acme-challenge/gone')).status).toBe(200);
    await edge.store.deleteAcmeChallenge('gone');
    expect((await get('x.burrow.test', '/.well-known/acme-challenge/gone')).code).toBe(
      'TUN_ERR_TUNNEL_NOT_FOUND',
    );
  });

  it('leaves other methods and other .well-known paths to routing', async () => {
    expect((await get('app.burrow.test', '/.well-known/acme-challenge/tok_en-1', 'POST')).code).toBe(
      'TUN_ERR_TUNNEL_NOT_FOUND',
    );
    expect((await get('app.burrow.test', '/.well-known/security.txt')).code).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
  });
});
