/**
 * Request history, statistics and the live stream through a real EdgeServer on SQLite:
 * records are inserted through the store (as the history writer does) and handed to the
 * edge's request observers (as the exchanges do), then read back over HTTP.
 */

import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../store/request-records.js';
import { sampleRecord } from '../observe/test-support/sample-record.js';
import { useApiEdge } from './test-support/api-edge.js';

const rig = useApiEdge('burrow-requests-api-');

interface Users {
  alice: { id: string; key: string };
  bob: { id: string; key: string };
  admin: string;
}
let users: Users | undefined;

/** Two users and an admin key on the rig's edge; alice owns `alpha`, bob owns `bravo`. */
async function setup(): Promise<Users> {
  if (users !== undefined) return users;
  const store = rig.edge.store;
  const make = async (name: string) => {
    const user = await store.createUser({ name });
    const { secret } = await store.createApiKey({ label: name, userId: user.id });
    return { id: user.id, key: secret };
  };
  const alice = await make('alice');
  const bob = await make('bob');
  await store.reserveName({ name: 'alpha', userId: alice.id });
  await store.reserveName({ name: 'bravo', userId: bob.id });
  const admin = (await store.createApiKey({ label: 'root', scopes: ['api', 'admin'] })).secret;
  users = { alice, bob, admin };
  return users;
}

async function api(key: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${rig.edge.port}/api/v1${path}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function codeOf(body: Record<string, unknown>): unknown {
  return (body.error as { code?: unknown } | undefined)?.code;
}

/** What the data path does with a finished request: the observers hear it. */
function finish(record: RequestRecord): void {
  for (const observer of rig.edge.requestObservers) observer.record(record);
}

const at = (second: number) => new Date(Date.UTC(2024, 4, 1, 12, 0, second));

describe('request history API', () => {
  it("pages a tunnel's records newest first with each filter, only the caller's own", async () => {
    const { alice, admin } = await setup();
    const records = [
      sampleRecord({
        id: 'h-1',
        tunnel: 'alpha',
        userId: alice.id,
        startedAt: at(1),
        method: 'GET',
        path: '/a',
      }),
      sampleRecord({
        id: 'h-2',
        tunnel: 'alpha',
        userId: alice.id,
        startedAt: at(2),
        method: 'POST',
        path: '/hooks/1',
      }),
      sampleRecord({
        id: 'h-3',
        tunnel: 'alpha',
        userId: alice.id,
        startedAt: at(3),
        status: 502,
        errorCode: 'TUN_ERR_ORIGIN_REFUSED',
      }),
      sampleRecord({
        id: 'h-4',
        tunnel: 'alpha',
        userId: alice.id,
        startedAt: at(4),
        status: 404,
        path: '/hooks/2',
      }),
      // Made while someone else held the name: not alice's history.
      sampleRecord({ id: 'h-0', tunnel: 'alpha', userId: 'someone-before', startedAt: at(0) }),
    ];
    await rig.edge.store.insertRequestRecords(records);

    const first = await api(alice.key, '/tunnels/alpha/requests?limit=2');
    expect(first.status).toBe(200);
    const page = first.body as { requests: { id: string }[]; nextCursor: string | null };
    expect(page.requests.map((r) => r.id)).toEqual(['h-4', 'h-3']);
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = await api(alice.key, `/tunnels/alpha/requests?limit=2&cursor=${page.nextCursor}`);
    expect(second.body).toMatchObject({ requests: [{ id: 'h-2' }, { id: 'h-1' }], nextCursor: null });

    const ids = async (query: string, key = alice.key) =>
      ((await api(key, `/tunnels/alpha/requests?${query}`)).body.requests as { id: string }[]).map(
        (r) => r.id,
      );
    expect(await ids('status=5xx')).toEqual(['h-3']);
    expect(await ids('status=2xx')).toEqual(['h-2', 'h-1']);
    expect(await ids('method=post')).toEqual(['h-2']);
    expect(await ids('path_prefix=/hooks/')).toEqual(['h-4', 'h-2']);
    expect(await ids('error_code=TUN_ERR_ORIGIN_REFUSED')).toEqual(['h-3']);
    expect(await ids(`since=${at(2).toISOString()}&until=${at(4).toISOString()}`)).toEqual(['h-3', 'h-2']);
    expect(await ids('')).not.toContain('h-0');
    expect(await ids('', admin)).toEqual(['h-4', 'h-3', 'h-2', 'h-1', 'h-0']);

    const view = (await api(alice.key, '/tunnels/alpha/requests?status=5xx')).body.requests as unknown[];
    expect(view[0]).toEqual({
      id: 'h-3',
      tunnel: 'alpha',
      userId: alice.id,
      startedAt: at(3).toISOString(),
      method: 'GET',
      path: '/',
      host: 'alpha.burrow.test',
      status: 502,
      upgrade: false,
      bytesIn: 0,
      bytesOut: 0,
      clientAddress: '127.0.0.2',
      traceId: null,
      errorCode: 'TUN_ERR_ORIGIN_REFUSED',
      timing: { edgeMs: 1, tunnelMs: 2, originMs: 3, totalMs: 10 },
      replayOf: null,
    });
  });

  it("answers another user's tunnel and a missing one with the same 404", async () => {
    const { alice } = await setup();
    for (const path of ['/tunnels/bravo/requests', '/tunnels/nope/requests', '/tunnels/bravo/stats']) {
      const answer = await api(alice.key, path);
      expect(answer.status).toBe(404);
      expect(codeOf(answer.body)).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
    }
  });

  it.each([
    ['status=9xx', 'status'],
    ['limit=500', 'limit'],
    ['since=now', 'since'],
    ['cursor=not-a-cursor', 'cursor'],
    ['pathprefix=/', 'pathprefix'],
  ])('refuses %s with 400 naming the field', async (query, field) => {
    const { alice } = await setup();
    const answer = await api(alice.key, `/tunnels/alpha/requests?${query}`);
    expect(answer.status).toBe(400);
    expect(codeOf(answer.body)).toBe('TUN_ERR_INVALID_INPUT');
    expect((answer.body.error as { message: string }).message).toContain(field);
  });

  it("shows one record with its capture, and another user's record as missing", async () => {
    const { alice, bob, admin } = await setup();
    await rig.edge.store.insertRequestRecords([
      sampleRecord({
        id: 'c-1',
        tunnel: 'alpha',
        userId: alice.id,
        capture: {
          requestHeaders: ['content-type', 'application/octet-stream', 'authorization', '***'],
          requestBody: Buffer.from([0, 1, 2, 255]),
          requestBodyTruncated: true,
          responseHeaders: ['content-type', 'text/plain'],
          responseBody: Buffer.from('hi'),
          responseBodyTruncated: false,
        },
      }),
    ]);
    const own = await api(alice.key, '/requests/c-1');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      id: 'c-1',
      capture: {
        requestHeaders: [
          ['content-type', 'application/octet-stream'],
          ['authorization', '***'],
        ],
        requestBody: Buffer.from([0, 1, 2, 255]).toString('base64'),
        requestBodyTruncated: true,
        responseHeaders: [['content-type', 'text/plain']],
        responseBody: 'aGk=',
        responseBodyTruncated: false,
      },
    });
    expect((await api(admin, '/requests/c-1')).status).toBe(200);
    for (const [key, id] of [
      [bob.key, 'c-1'],
      [alice.key, 'no-such-id'],
      [alice.key, 'x'.repeat(300)],
    ] as const) {
      const answer = await api(key, `/requests/${id}`);
      expect(answer.status).toBe(404);
      expect(codeOf(answer.body)).toBe('TUN_ERR_NOT_FOUND');
    }
  });
});

describe('tunnel statistics API', () => {
  it('counts what the observers heard, for the owner and an admin', async () => {
    const { alice, bob, admin } = await setup();
    await api(alice.key, '/tunnels/alpha/stats');
    for (let i = 0; i < 9; i++) finish(sampleRecord({ tunnel: 'alpha', userId: alice.id, bytesOut: 100 }));
    finish(
      sampleRecord({
        tunnel: 'alpha',
        userId: alice.id,
        status: 502,
        errorCode: 'TUN_ERR_ORIGIN_REFUSED',
        timing: { edgeMs: 1, tunnelMs: 1, originMs: null, totalMs: 40 },
      }),
    );
    const answer = await api(alice.key, '/tunnels/alpha/stats');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      name: 'alpha',
      sessions: [],
      requests: 10,
      upgrades: 0,
      openWebSockets: 0,
      statusClasses: { '1xx': 0, '2xx': 9, '3xx': 0, '4xx': 0, '5xx': 1, none: 0 },
      errorCodes: { TUN_ERR_ORIGIN_REFUSED: 1 },
      bytesIn: 0,
      bytesOut: 900,
      lastStatus: 502,
      latency: {
        minute: { count: 10, p50Ms: 10, p90Ms: 10, p99Ms: 40 },
        hour: { count: 10, p50Ms: 10, p90Ms: 10, p99Ms: 40 },
        day: { count: 10, p50Ms: 10, p90Ms: 10, p99Ms: 40 },
      },
    });
    expect(Date.parse(answer.body.lastStatusAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect((await api(admin, '/tunnels/alpha/stats')).body).toMatchObject({ requests: 10 });
    // The deprecated counters answer from the same statistics.
    expect((await api(alice.key, '/tunnels/alpha/traffic')).body).toEqual({
      name: 'alpha',
      since: answer.body.since,
      requests: 10,
      upgrades: 0,
      lastRequestAt: answer.body.lastStatusAt,
    });
    expect((await api(bob.key, '/tunnels/bravo/stats')).body).toMatchObject({
      requests: 0,
      lastStatus: null,
    });
  });
});
