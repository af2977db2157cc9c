/**
 * Quotas under bursts against the real edge: BINDs sent hundreds to one WebSocket write,
 * name reservations sent in parallel, wrong keys tried in parallel. Each limit must hold
 * exactly, however many arrive before the first one's store write lands.
 */

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ERROR_CATALOG,
  FrameDecoder,
  FrameType,
  WEBSOCKET_SUBPROTOCOL,
  encodeFrame,
  encodeJson,
} from '@burrow/protocol';
import { createApiKey, startEdge, stopAll, type Edge } from './harness.js';

afterEach(stopAll);

interface RawAgent {
  ws: WebSocket;
  acks: Record<string, unknown>[];
  errors: Record<string, unknown>[];
  helloAcked: Promise<void>;
}

function rawAgent(edge: Edge, token: string | null): Promise<RawAgent> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${edge.url.replace('http', 'ws')}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    const acks: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    let acked: () => void = () => undefined;
    const helloAcked = new Promise<void>((r) => (acked = r));
    const decoder = new FrameDecoder({
      maxPayload: 16 * 1024 * 1024,
      onFrame: (f) => {
        const body = JSON.parse(Buffer.from(f.payload).toString('utf8')) as Record<string, unknown>;
        if (f.type === FrameType.HELLO_ACK) acked();
        if (f.type === FrameType.BIND_ACK) acks.push(body);
        if (f.type === FrameType.ERROR) errors.push(body);
      },
    });
    ws.on('message', (data: Buffer) => decoder.push(data));
    // A locked-out address is refused at the upgrade already: that is a refusal too.
    ws.on('unexpected-response', (_req, res) => {
      const code = res.headers['x-burrow-error'];
      errors.push({ code: code === 'TUN_ERR_AUTH_LOCKED' ? ERROR_CATALOG.TUN_ERR_AUTH_LOCKED.wire : code });
      resolve({ ws, acks, errors, helloAcked });
    });
    ws.on('error', (err) => {
      if (errors.length === 0) reject(err);
    });
    ws.on('open', () => {
      const hello = { versions: [1], agent: 'burst', token, window: 65536, maxFramePayload: 65536 };
      ws.send(encodeFrame(FrameType.HELLO, 0, 0, encodeJson(hello)));
      resolve({ ws, acks, errors, helloAcked });
    });
  });
}

/** Every BIND in one WebSocket message; resolves with all BIND_ACKs. */
async function bindBurst(agent: RawAgent, names: (string | null)[]): Promise<Record<string, unknown>[]> {
  await agent.helloAcked;
  const frames = names.map((name, i) =>
    encodeFrame(
      FrameType.BIND,
      0,
      0,
      encodeJson({ id: i + 1, proto: 'http', name, resumeToken: null, policy: null, force: false }),
    ),
  );
  agent.ws.send(Buffer.concat(frames));
  const deadline = Date.now() + 20_000;
  while (agent.acks.length < names.length && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  expect(agent.acks).toHaveLength(names.length);
  return agent.acks;
}

describe('quotas under bursts', () => {
  it('binds exactly tunnels.anonymousTunnelsPerIp anonymous tunnels from a burst of 300 BINDs', async () => {
    const edge = await startEdge();
    const agent = await rawAgent(edge, null);
    const acks = await bindBurst(
      agent,
      Array.from({ length: 300 }, () => null),
    );
    expect(acks.filter((a) => a.ok === true)).toHaveLength(5);
    expect(acks.filter((a) => a.code === 'TUN_ERR_TUNNEL_LIMIT')).toHaveLength(295);
  });

  it('binds exactly limits.tunnelsPerKey named tunnels from a burst of 300 BINDs', async () => {
    const edge = await startEdge({ env: { BURROW_LIMITS_MAX_TUNNELS_PER_SESSION: '1000' } });
    const token = await createApiKey(edge.dataDir);
    const agent = await rawAgent(edge, token);
    const acks = await bindBurst(
      agent,
      Array.from({ length: 300 }, (_, i) => `burst${i}`),
    );
    expect(acks.filter((a) => a.ok === true)).toHaveLength(50);
    expect(acks.filter((a) => a.code === 'TUN_ERR_TUNNEL_LIMIT')).toHaveLength(250);
  });

  it('reserves exactly limits.reservedNamesPerUser names from 120 parallel PUTs, then says how to free one', async () => {
    const edge = await startEdge({ env: { BURROW_LIMITS_RESERVED_NAMES_PER_USER: '10' } });
    const key = await createApiKey(edge.dataDir, 'hoarder', 'agent,api');
    const answers = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const res = await request(`${edge.url}/api/v1/tunnels/hoard${i}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${key}` },
        });
        return { status: res.statusCode, code: res.headers['x-burrow-error'], text: await res.body.text() };
      }),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(110);
    expect(refused[0]!.code).toBe('TUN_ERR_NAME_LIMIT');
    expect(refused[0]!.text).toMatch(/limit is 10.*release/);
    // BIND of a new name counts against the same limit.
    const agent = await rawAgent(edge, key);
    const [ack] = await bindBurst(agent, ['one-more']);
    expect(ack).toMatchObject({ ok: false, code: 'TUN_ERR_NAME_LIMIT' });
  });

  it('checks at most 5 of 60 parallel HELLOs with wrong keys from one address', async () => {
    const edge = await startEdge();
    const agents = await Promise.all(Array.from({ length: 60 }, () => rawAgent(edge, 'bk_wrongwrong_guess')));
    const deadline = Date.now() + 20_000;
    while (agents.some((a) => a.errors.length === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const codes = agents.map((a) => a.errors[0]?.code);
    expect(codes.filter((c) => c === ERROR_CATALOG.TUN_ERR_UNAUTHORIZED.wire)).toHaveLength(5);
    expect(codes.filter((c) => c === ERROR_CATALOG.TUN_ERR_AUTH_LOCKED.wire)).toHaveLength(55);
  });

  it('checks at most 5 of 60 parallel control API calls with wrong Bearer keys from one address', async () => {
    const edge = await startEdge();
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const res = await request(`${edge.url}/api/v1/tunnels`, {
          headers: { authorization: 'Bearer bk_wrongwrong_guess' },
        });
        await res.body.dump();
        return { status: res.statusCode, code: res.headers['x-burrow-error'] };
      }),
    );
    expect(statuses.filter((s) => s.status === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s.status === 429 && s.code === 'TUN_ERR_AUTH_LOCKED')).toHaveLength(55);
  });
});
