/**
 * `GET /tunnels/{name}/requests/stream` on a real EdgeServer: Server-Sent Events read with
 * fetch, records handed to the edge's observers as the exchanges do, the per-user limit,
 * and the end of every stream when the edge shuts down.
 */

import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../observe/test-support/sample-record.js';
import type { RequestRecord } from '../store/request-records.js';
import { useApiEdge } from './test-support/api-edge.js';

const rig = useApiEdge('burrow-request-stream-');

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** An open stream: its status and head, and the events parsed as they arrive. */
class SseReader {
  readonly events: SseEvent[] = [];
  comments = 0;
  done = false;
  private buffer = '';

  constructor(
    readonly res: Response,
    private readonly controller: AbortController,
  ) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    const reader = this.res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) !== -1) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: '' };
          let fields = 0;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              this.comments++;
              continue;
            }
            const colon = line.indexOf(': ');
            const [name, value] = [line.slice(0, colon), line.slice(colon + 2)];
            if (name === 'event') event.event = value;
            else if (name === 'id') event.id = value;
            else if (name === 'data') event.data = value;
            else continue;
            fields++;
          }
          if (fields > 0) this.events.push(event);
        }
      }
    } catch {
      // aborted by the test
    }
    this.done = true;
  }

  close(): void {
    this.controller.abort();
  }
}

async function open(key: string, tunnel: string): Promise<SseReader | Response> {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${rig.edge.port}/api/v1/tunnels/${tunnel}/requests/stream`, {
    headers: { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  return res.status === 200 ? new SseReader(res, controller) : res;
}

async function stream(key: string, tunnel: string): Promise<SseReader> {
  const opened = await open(key, tunnel);
  if (!(opened instanceof SseReader))
    throw new Error(`stream answered ${opened.status}: ${await opened.text()}`);
  return opened;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

function finish(record: RequestRecord): void {
  for (const observer of rig.edge.requestObservers) observer.record(record);
}

let users: { alice: { id: string; key: string }; bob: { id: string; key: string } } | undefined;
async function setup() {
  if (users !== undefined) return users;
  const store = rig.edge.store;
  const make = async (name: string) => {
    const user = await store.createUser({ name });
    return { id: user.id, key: (await store.createApiKey({ label: name, userId: user.id })).secret };
  };
  users = { alice: await make('alice'), bob: await make('bob') };
  await store.reserveName({ name: 'alpha', userId: users.alice.id });
  await store.reserveName({ name: 'bravo', userId: users.bob.id });
  return users;
}

describe('live request stream', () => {
  it("sends the owner each of the tunnel's new records as an event, and nothing else", async () => {
    const { alice, bob } = await setup();
    const reader = await stream(alice.key, 'alpha');
    expect(reader.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await until(() => reader.comments >= 1);
    finish(sampleRecord({ id: 's-1', tunnel: 'alpha', userId: alice.id, method: 'POST', path: '/hook' }));
    finish(sampleRecord({ id: 's-2', tunnel: 'bravo', userId: bob.id }));
    finish(sampleRecord({ id: 's-3', tunnel: 'alpha', userId: 'someone-before' }));
    finish(sampleRecord({ id: 's-4', tunnel: 'alpha', userId: alice.id, status: 404 }));
    await until(() => reader.events.length >= 2);
    expect(reader.events.map((e) => [e.event, e.id])).toEqual([
      ['request', 's-1'],
      ['request', 's-4'],
    ]);
    expect(JSON.parse(reader.events[0]!.data)).toMatchObject({
      id: 's-1',
      tunnel: 'alpha',
      method: 'POST',
      path: '/hook',
      timing: { totalMs: 10 },
    });
    expect(JSON.parse(reader.events[0]!.data)).not.toHaveProperty('capture');
    reader.close();
  });

  it('ends the stream of a key revoked after it opened, at the next heartbeat', async () => {
    const { alice } = await setup();
    const store = rig.edge.store;
    const spare = await store.createApiKey({ label: 'spare', userId: alice.id });
    const reader = await stream(spare.secret, 'alpha');
    await until(() => reader.comments >= 1);
    await store.revokeApiKey(spare.record.id);
    // One heartbeat (15 s) at most, then the check answers.
    for (let i = 0; i < 200 && reader.events.at(-1)?.event !== 'end'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(reader.events.at(-1)).toEqual({ event: 'end', data: '{"reason":"unauthorized"}' });
    finish(sampleRecord({ id: 's-after-revoke', tunnel: 'alpha', userId: alice.id }));
    await new Promise((r) => setTimeout(r, 50));
    expect(reader.events.map((e) => e.id)).not.toContain('s-after-revoke');
    reader.close();
  }, 30_000);

  it("answers another user's tunnel with 404 JSON, before any event", async () => {
    const { alice } = await setup();
    const res = (await open(alice.key, 'bravo')) as Response;
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TUN_ERR_TUNNEL_NOT_FOUND');
  });

  it('allows limits.sseStreamsPerUser (5) open streams per user, and one more once one closed', async () => {
    const { alice, bob } = await setup();
    const readers = [];
    for (let i = 0; i < 5; i++) readers.push(await stream(alice.key, 'alpha'));
    const refused = (await open(alice.key, 'alpha')) as Response;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-burrow-error')).toBe('TUN_ERR_FEED_LIMIT');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TUN_ERR_FEED_LIMIT');
    // Another user has their own allowance.
    const bobs = await stream(bob.key, 'bravo');
    readers[0]!.close();
    let again: SseReader | Response = refused;
    for (let i = 0; i < 100 && !(again instanceof SseReader); i++) {
      await new Promise((r) => setTimeout(r, 10));
      again = await open(alice.key, 'alpha');
    }
    expect(again).toBeInstanceOf(SseReader);
    for (const reader of [...readers.slice(1), bobs, again as SseReader]) reader.close();
  });

  it('ends every stream with a last event when the edge shuts down', async () => {
    const { alice } = await setup();
    let reader: SseReader | undefined;
    for (let i = 0; i < 100 && reader === undefined; i++) {
      const opened = await open(alice.key, 'alpha');
      if (opened instanceof SseReader) reader = opened;
      else await new Promise((r) => setTimeout(r, 10));
    }
    const started = Date.now();
    const closing = rig.edge.close();
    await until(() => reader!.done);
    expect(reader!.events.at(-1)).toEqual({ event: 'end', data: '{"reason":"edge-closing"}' });
    // Ended at the start of the shutdown, not by the forced close of connections 1 s later.
    expect(Date.now() - started).toBeLessThan(900);
    await closing;
  });
});
