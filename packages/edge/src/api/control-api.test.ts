import { describe, expect, it } from 'vitest';
import { useApiEdge } from './test-support/api-edge.js';

const rig = useApiEdge('burrow-api-');

function api(method: string, path: string, auth: string | null = rig.key): Promise<Response> {
  return fetch(`http://127.0.0.1:${rig.edge.port}/api/v1${path}`, {
    method,
    headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
  });
}

describe('control API on an in-process EdgeServer', () => {
  it('refuses a call without a key, with the stable code', async () => {
    const res = await api('GET', '/me', null);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-burrow-error')).toBe('TUN_ERR_UNAUTHORIZED');
  });

  it("names the key's user", async () => {
    const res = await api('GET', '/me');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { key: { label: string }; user: { admin: boolean } };
    expect(body.key.label).toBe('test');
  });

  it('reserves a name, lists it, and releases it', async () => {
    expect((await api('PUT', '/tunnels/reserved-one')).status).toBe(201);
    const list = (await (await api('GET', '/tunnels')).json()) as {
      tunnels: { name: string; online: boolean }[];
    };
    expect(list.tunnels.map((t) => t.name)).toContain('reserved-one');
    expect(list.tunnels.find((t) => t.name === 'reserved-one')?.online).toBe(false);
    expect((await api('DELETE', '/tunnels/reserved-one')).status).toBe(204);
    expect((await api('GET', '/tunnels/reserved-one')).status).toBe(404);
  });
});
