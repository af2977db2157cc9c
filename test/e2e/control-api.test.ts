/**
 * The control API against a running edge: each user's key sees and changes only that
 * user's tunnels, policies, traffic, domains, keys and sessions; a stored policy guards a
 * named tunnel whatever flags its agent runs with; bad keys and bad input get clear errors.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  ROOT,
  startAgent,
  startEdge,
  startOrigin,
  stopAll,
  tunnelRequest,
  type Edge,
} from './harness.js';
import { originHandler } from './origin.js';

afterEach(stopAll);

interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

async function api(
  edge: Edge,
  key: string | null,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await request(`${edge.url}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

function errorCode(answer: ApiAnswer): unknown {
  return (answer.body.error as { code?: unknown } | undefined)?.code;
}

function names(list: unknown, field: string): string[] {
  return (list as Record<string, string>[]).map((item) => item[field]!);
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('control API', () => {
  it("never lets one user's key list, read, change or delete another user's tunnels, policies, traffic, domains, keys or sessions", async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const alice = await createApiKey(edge.dataDir, 'alice');
    const bob = await createApiKey(edge.dataDir, 'bob');
    const admin = await createApiKey(edge.dataDir, undefined, 'admin');

    expect((await api(edge, alice, 'PUT', '/tunnels/alpha')).status).toBe(201);
    expect((await api(edge, alice, 'PUT', '/tunnels/alpha')).status).toBe(200);
    expect(
      (await api(edge, alice, 'POST', '/domains', { hostname: 'app.example.test', tunnel: 'alpha' })).status,
    ).toBe(201);
    await startAgent(edge, String(origin.port), { name: 'alpha', token: alice });
    expect((await tunnelRequest(edge, 'alpha', '/echo')).statusCode).toBe(200);
    const aliceKeys = await api(edge, alice, 'GET', '/keys');
    const aliceKeyId = names(aliceKeys.body.keys, 'id')[0]!;

    // Alice sees her own things.
    const mine = await api(edge, alice, 'GET', '/tunnels');
    expect(names(mine.body.tunnels, 'name')).toEqual(['alpha']);
    expect((mine.body.tunnels as Record<string, unknown>[])[0]).toMatchObject({
      online: true,
      owner: 'alice',
    });
    expect((await api(edge, alice, 'GET', '/tunnels/alpha/traffic')).body).toMatchObject({ requests: 1 });
    expect(names((await api(edge, alice, 'GET', '/sessions')).body.sessions, 'keyId')).toContain(aliceKeyId);

    // Bob sees none of it, and every attempt to touch it answers like a missing resource.
    expect((await api(edge, bob, 'GET', '/tunnels')).body.tunnels).toEqual([]);
    expect((await api(edge, bob, 'GET', '/domains')).body.domains).toEqual([]);
    expect(names((await api(edge, bob, 'GET', '/keys')).body.keys, 'id')).not.toContain(aliceKeyId);
    expect((await api(edge, bob, 'GET', '/sessions')).body.sessions).toEqual([]);
    for (const [method, path, body] of [
      ['GET', '/tunnels/alpha', undefined],
      ['GET', '/tunnels/alpha/policy', undefined],
      ['PUT', '/tunnels/alpha/policy', { basicAuth: ['bob:owned'] }],
      ['DELETE', '/tunnels/alpha/policy', undefined],
      ['GET', '/tunnels/alpha/traffic', undefined],
      ['DELETE', '/tunnels/alpha', undefined],
      ['GET', '/domains/app.example.test', undefined],
      ['PATCH', '/domains/app.example.test', { tunnel: null }],
      ['DELETE', '/domains/app.example.test', undefined],
      ['DELETE', `/keys/${aliceKeyId}`, undefined],
    ] as const) {
      const answer = await api(edge, bob, method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(answer.body)).not.toContain('alice');
    }
    // Reserving her name is refused, naming who can free it, and the domain cannot be taken over.
    const taken = await api(edge, bob, 'PUT', '/tunnels/alpha');
    expect(taken.status).toBe(409);
    expect(errorCode(taken)).toBe('TUN_ERR_NAME_TAKEN');
    expect((taken.body.error as { message: string }).message).toMatch(/alice/);
    expect((await api(edge, bob, 'POST', '/domains', { hostname: 'app.example.test' })).status).toBe(409);
    expect((await api(edge, bob, 'POST', '/domains', { hostname: 'bob.test', tunnel: 'alpha' })).status).toBe(
      409,
    );

    // Nothing of Alice's changed: her tunnel is open, her domain routes, her key works.
    expect((await tunnelRequest(edge, 'alpha', '/echo')).statusCode).toBe(200);
    const domain = await api(edge, alice, 'GET', '/domains/app.example.test');
    expect(domain.body).toMatchObject({ hostname: 'app.example.test', tunnel: 'alpha' });
    expect((await api(edge, alice, 'GET', '/tunnels/alpha/policy')).body).toEqual({ policy: null });
    expect((await api(edge, alice, 'GET', '/me')).body).toMatchObject({ user: { name: 'alice' } });
    expect((await api(edge, alice, 'GET', '/tunnels/alpha/traffic')).body).toMatchObject({ requests: 2 });

    // An admin key sees every user's resources.
    expect(names((await api(edge, admin, 'GET', '/tunnels')).body.tunnels, 'name')).toContain('alpha');
    expect(names((await api(edge, admin, 'GET', '/domains')).body.domains, 'hostname')).toContain(
      'app.example.test',
    );
    expect((await api(edge, admin, 'GET', '/tunnels/alpha/traffic')).status).toBe(200);
  });

  it('enforces a stored policy on the live tunnel at once and on every later bind; agent flags override it field by field', async () => {
    const origin = await startOrigin(originHandler);
    const edge = await startEdge();
    const key = await createApiKey(edge.dataDir, 'carol');
    const first = await startAgent(edge, String(origin.port), { name: 'guarded', token: key });
    expect((await tunnelRequest(edge, 'guarded', '/echo')).statusCode).toBe(200);

    const stored = await api(edge, key, 'PUT', '/tunnels/guarded/policy', {
      basicAuth: ['carol:s3cret'],
      responseHeaderAdd: ['X-Guarded: yes'],
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual({
      policy: { basicAuth: ['carol:***'], responseHeaderAdd: ['X-Guarded: ***'] },
    });
    expect(JSON.stringify(await api(edge, key, 'GET', '/tunnels/guarded/policy'))).not.toContain('s3cret');
    expect((await api(edge, key, 'GET', '/tunnels/guarded')).body).toMatchObject({ hasPolicy: true });

    // Live at once, without the agent reconnecting.
    expect((await tunnelRequest(edge, 'guarded', '/echo')).statusCode).toBe(401);
    const admitted = await tunnelRequest(edge, 'guarded', '/echo', {
      headers: { authorization: basic('carol:s3cret') },
    });
    expect(admitted.statusCode).toBe(200);
    expect(admitted.headers['x-guarded']).toBe('yes');
    await admitted.body.dump();

    // A new agent without policy flags still runs under the stored policy.
    first.proc.signal('SIGINT');
    await first.proc.exited;
    const second = await startAgent(edge, String(origin.port), { name: 'guarded', token: key });
    expect((await tunnelRequest(edge, 'guarded', '/echo')).statusCode).toBe(401);

    // An agent's --basic-auth replaces the stored credentials; the stored header addition stays.
    second.proc.signal('SIGINT');
    await second.proc.exited;
    await startAgent(edge, String(origin.port), {
      name: 'guarded',
      token: key,
      args: ['--basic-auth', 'dev:other'],
    });
    expect(
      (await tunnelRequest(edge, 'guarded', '/echo', { headers: { authorization: basic('carol:s3cret') } }))
        .statusCode,
    ).toBe(401);
    const viaFlag = await tunnelRequest(edge, 'guarded', '/echo', {
      headers: { authorization: basic('dev:other') },
    });
    expect(viaFlag.statusCode).toBe(200);
    expect(viaFlag.headers['x-guarded']).toBe('yes');
    await viaFlag.body.dump();

    // Removing the stored policy leaves only the agent's own.
    expect((await api(edge, key, 'DELETE', '/tunnels/guarded/policy')).status).toBe(204);
    const flagOnly = await tunnelRequest(edge, 'guarded', '/echo', {
      headers: { authorization: basic('dev:other') },
    });
    expect(flagOnly.statusCode).toBe(200);
    expect(flagOnly.headers['x-guarded']).toBeUndefined();
    await flagOnly.body.dump();

    // An invalid policy is refused naming the field, and the stored state is unchanged.
    const bad = await api(edge, key, 'PUT', '/tunnels/guarded/policy', { allowIp: ['not-an-ip'] });
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe('TUN_ERR_INVALID_INPUT');
    expect((bad.body.error as { message: string }).message).toMatch(/allowIp/);
    // Host is the agent's setting (--host-header): stored here it could never take effect.
    const host = await api(edge, key, 'PUT', '/tunnels/guarded/policy', { hostHeader: 'rewrite' });
    expect(host.status).toBe(400);
    expect(errorCode(host)).toBe('TUN_ERR_INVALID_INPUT');
    expect((host.body.error as { message: string }).message).toMatch(
      /"hostHeader" is not an edge policy field.*--host-header/,
    );
    expect((await api(edge, key, 'GET', '/tunnels/guarded/policy')).body).toEqual({ policy: null });
    // A name that is online cannot be released from under its agent.
    expect(errorCode(await api(edge, key, 'DELETE', '/tunnels/guarded'))).toBe('TUN_ERR_NAME_IN_USE');
  });

  it('answers missing, wrong-scope and guessed keys, bad input, unknown paths and wrong methods with clear JSON errors', async () => {
    const edge = await startEdge();
    const agentOnly = await createApiKey(edge.dataDir, 'dan', 'agent');
    const dan = await createApiKey(edge.dataDir, 'dan', 'api');

    const none = await api(edge, null, 'GET', '/tunnels');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((none.body.error as { message: string }).message).toMatch(/Authorization: Bearer/);
    const forbidden = await api(edge, agentOnly, 'GET', '/tunnels');
    expect(forbidden.status).toBe(403);
    expect(errorCode(forbidden)).toBe('TUN_ERR_FORBIDDEN');

    expect((await api(edge, dan, 'POST', '/domains', '{not json')).status).toBe(400);
    expect(
      (await api(edge, dan, 'POST', '/domains', { hostname: 'x.test' }, { 'content-type': 'text/plain' }))
        .status,
    ).toBe(400);
    const inOwnDomain = await api(edge, dan, 'POST', '/domains', { hostname: 'app.localhost' });
    expect(inOwnDomain.status).toBe(400);
    expect(errorCode(await api(edge, dan, 'PUT', '/tunnels/Bad--Name'))).toBe('TUN_ERR_NAME_INVALID');
    const escalate = await api(edge, dan, 'POST', '/keys', { scopes: ['agent', 'api'] });
    expect(escalate.status).toBe(403);
    // Without scopes, the default is narrowed to what the calling key has: no agent scope here.
    const plain = await api(edge, dan, 'POST', '/keys', { label: 'dashboard' });
    expect(plain.status).toBe(201);
    expect(plain.body.scopes).toEqual(['api']);
    const minted = await api(edge, dan, 'POST', '/keys', { label: 'ci', scopes: ['api'] });
    expect(minted.status).toBe(201);
    expect((await api(edge, minted.body.secret as string, 'GET', '/me')).body).toMatchObject({
      user: { name: 'dan' },
    });
    expect((await api(edge, dan, 'DELETE', `/keys/${minted.body.id as string}`)).status).toBe(204);
    expect((await api(edge, minted.body.secret as string, 'GET', '/me')).status).toBe(401);

    const unknown = await api(edge, dan, 'GET', '/nothing');
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe('TUN_ERR_NOT_FOUND');
    const wrongMethod = await api(edge, dan, 'POST', '/tunnels');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
    const oversized = await api(edge, dan, 'POST', '/domains', {
      hostname: 'a.test',
      pad: 'x'.repeat(70_000),
    });
    expect(oversized.status).toBe(413);

    const document = await api(edge, null, 'GET', '/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')));

    // Guessing keys: slower answers, then 429 with Retry-After even for a valid key from that
    // address. The revoked key above was the first wrong key; the fifth locks the address out.
    for (let i = 0; i < 4; i++) {
      expect((await api(edge, `bk_guess${i}00_${'x'.repeat(43)}`, 'GET', '/me')).status).toBe(401);
    }
    const locked = await api(edge, dan, 'GET', '/me');
    expect(locked.status).toBe(429);
    expect(errorCode(locked)).toBe('TUN_ERR_AUTH_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
