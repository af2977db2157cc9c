/**
 * HTTP-01 precedence on an edge without ACME: a token the edge's store holds is answered by
 * the edge; any other `/.well-known/acme-challenge/*` reaches the tunnel, so an origin
 * running its own ACME client (Caddy, certbot) through the tunnel still validates. A real
 * edge (in process, for its store), a real agent process and a real origin.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeServer, loadEdgeConfig } from '../../packages/edge/src/index.js';
import { startAgent, startOrigin, stopAll, tempDir, type Agent } from './harness.js';

let edge: EdgeServer;
let agent: Agent;

beforeAll(async () => {
  const dir = tempDir();
  const config = loadEdgeConfig({
    flags: { listen: '127.0.0.1:0', domain: 'burrow.test', data: dir, logLevel: 'silent' },
    env: {},
    cwd: dir,
  });
  edge = await EdgeServer.start({ config });
  const origin = await startOrigin((req, res) => res.end(`origin answered ${req.method} ${req.url}`));
  agent = await startAgent({ url: `http://127.0.0.1:${edge.port}` }, String(origin.port));
}, 30_000);

afterAll(async () => {
  await stopAll();
  await edge?.close();
});

async function get(path: string, host = `${agent.name}.burrow.test`) {
  const res = await request(`http://127.0.0.1:${edge.port}${path}`, { headers: { host } });
  return { status: res.statusCode, code: res.headers['x-burrow-error'], body: await res.body.text() };
}

describe('ACME challenges with ACME off', () => {
  it("a token the edge does not hold reaches the tunnel's origin", async () => {
    expect(await get('/.well-known/acme-challenge/origin-token_1')).toEqual({
      status: 200,
      code: undefined,
      body: 'origin answered GET /.well-known/acme-challenge/origin-token_1',
    });
  });

  it("the edge's own token is answered by the edge, not the origin", async () => {
    await edge.store.putAcmeChallenge('edge-token', 'edge-token.thumb', new Date(Date.now() + 60_000));
    expect(await get('/.well-known/acme-challenge/edge-token')).toMatchObject({
      status: 200,
      body: 'edge-token.thumb',
    });
  });

  it('an unknown token on a host that is no tunnel gets the usual tunnel-not-found page', async () => {
    expect(await get('/.well-known/acme-challenge/nope', 'nobody.burrow.test')).toMatchObject({
      status: 404,
      code: 'TUN_ERR_TUNNEL_NOT_FOUND',
    });
  });
});
