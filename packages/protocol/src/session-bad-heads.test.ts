/**
 * A head (OPEN or HEAD) the receiver cannot accept costs only its own stream: the frame is
 * well framed, so the session answers with a RESET for that stream and carries on. The
 * sender never sends such a head in the first place.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, TunnelError, type ErrorCode } from './errors.js';
import { FrameFlag, FrameType } from './frame.js';
import { HEAD_LIMITS } from './head-limits.js';
import type { MuxStream } from './stream.js';
import { json } from './test-support/raw-peer.js';
import {
  createRawPair,
  createSessionPair,
  destroyAllSessions,
  requestHead,
  responseHead,
  settle,
  TEST_MAX_FRAME,
  waitUntil,
} from './test-support/session-pair.js';

afterEach(() => destroyAllSessions());

/** `count` tiny header fields: small in bytes, many in number. */
function manyHeaders(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`h${i}`, 'v');
  return out;
}

function thrownCode(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunnelError);
    return (err as TunnelError).code;
  }
  throw new Error('expected a TunnelError, nothing was thrown');
}

describe('an OPEN the agent cannot accept', () => {
  it.each([
    [
      'more header fields than the protocol carries',
      { ...requestHead(), headers: manyHeaders(HEAD_LIMITS.maxFields + 1) },
      'TUN_ERR_HEADERS_TOO_LARGE',
    ],
    ['headers that are not name/value pairs', { ...requestHead(), headers: ['Host'] }, 'TUN_ERR_BAD_MESSAGE'],
    ['a payload that is not JSON', Buffer.from('{nope'), 'TUN_ERR_BAD_MESSAGE'],
    ['a method over 64 chars', { ...requestHead(), method: 'M'.repeat(65) }, 'TUN_ERR_BAD_MESSAGE'],
  ] as const)('resets only that stream on %s', async (_what, payload, code) => {
    const { session, raw, sessionClose } = createRawPair('agent');
    const accepted: number[] = [];
    session.on('stream', (s) => accepted.push(s.id));
    raw.send(FrameType.OPEN, FrameFlag.FIN, 1, payload);
    // Late frames for the refused stream are ignored, as for any finished stream.
    raw.send(FrameType.DATA, 0, 1, Buffer.from('late'));
    raw.send(FrameType.OPEN, FrameFlag.FIN, 3, requestHead());
    await waitUntil(() => accepted.length === 1);
    await settle();
    expect(accepted).toEqual([3]);
    const resets = raw.framesOf(FrameType.RESET);
    expect(resets.map((f) => f.streamId)).toEqual([1]);
    expect(json(resets[0]!)).toMatchObject({ code: ERROR_CATALOG[code].wire });
    expect(raw.framesOf(FrameType.GOAWAY)).toHaveLength(0);
    expect(sessionClose.closed).toBe(false);
  });
});

describe('a HEAD the edge cannot accept', () => {
  it.each([
    [
      'more header fields than the protocol carries',
      responseHead({ headers: manyHeaders(HEAD_LIMITS.maxFields + 1) }),
      'TUN_ERR_HEAD_TOO_LARGE',
    ],
    ['status 42', responseHead({ status: 42 }), 'TUN_ERR_HEAD_INVALID'],
    ['headers that are not strings', { ...responseHead(), headers: ['A', 1] }, 'TUN_ERR_HEAD_INVALID'],
  ] as const)('resets only that stream on %s, with or without FIN', async (_what, head, code) => {
    const { session, raw, sessionClose } = createRawPair('edge');
    const errors: string[] = [];
    const streams = [0, 1, 2].map(() => {
      const s = session.openStream();
      s.on('reset', (err) => errors.push(`${s.id}:${err.code}`));
      s.open(requestHead(), { fin: true, upgrade: false });
      return s;
    });
    raw.send(FrameType.HEAD, 0, 1, head);
    raw.send(FrameType.HEAD, FrameFlag.FIN, 3, head);
    raw.send(FrameType.DATA, FrameFlag.FIN, 1, Buffer.from('late'));
    raw.send(FrameType.HEAD, FrameFlag.FIN, 5, responseHead());
    await waitUntil(() => streams[2]!.finished);
    await settle();
    expect(errors).toEqual([`1:${code}`, `3:${code}`]);
    const resets = raw.framesOf(FrameType.RESET);
    expect(resets.map((f) => f.streamId)).toEqual([1, 3]);
    for (const f of resets) expect(json(f)).toMatchObject({ code: ERROR_CATALOG[code].wire });
    expect(sessionClose.closed).toBe(false);
    expect(streams[2]!.state).toBe('closed');
  });

  it('treats a HEAD the application refuses the same with FIN as without', async () => {
    const { session, raw, sessionClose } = createRawPair('edge');
    const refused = new TunnelError('TUN_ERR_HEAD_INVALID', 'not valid HTTP');
    for (const flags of [0, FrameFlag.FIN]) {
      const s = session.openStream();
      // What the edge's proxy does with a head it cannot forward: reset inside 'head'.
      s.once('head', () => s.reset(refused));
      s.open(requestHead(), { fin: true, upgrade: false });
      raw.send(FrameType.HEAD, flags, s.id, responseHead({ headers: ['Bad Name', 'x'] }));
      await waitUntil(() => s.finished);
      expect(s.state).toBe('reset');
    }
    await settle();
    expect(sessionClose.closed).toBe(false);
    expect(raw.framesOf(FrameType.RESET).map((f) => f.streamId)).toEqual([1, 3]);
  });

  it('treats DATA+FIN the application refuses the same as DATA alone', async () => {
    const { session, raw, sessionClose } = createRawPair('edge');
    const s = session.openStream();
    s.once('data', () => s.reset(new TunnelError('TUN_ERR_STREAM_CANCELLED')));
    s.open(requestHead(), { fin: true, upgrade: false });
    raw.send(FrameType.HEAD, 0, 1, responseHead());
    raw.send(FrameType.DATA, FrameFlag.FIN, 1, Buffer.from('body'));
    await waitUntil(() => s.finished);
    await settle();
    expect(sessionClose.closed).toBe(false);
  });
});

describe('a sender never sends a head its peer would refuse', () => {
  it('refuses to OPEN with more header fields than the protocol carries, and frees the slot', async () => {
    const { edge, agentIn } = createSessionPair({ edge: { maxStreams: 1 } });
    const s = edge.openStream();
    const code = thrownCode(() =>
      s.open(requestHead({ headers: manyHeaders(HEAD_LIMITS.maxFields + 1) }), { fin: true, upgrade: false }),
    );
    expect(code).toBe('TUN_ERR_HEADERS_TOO_LARGE');
    expect(s.finished).toBe(true);
    // The refused stream no longer counts against maxStreams.
    const next = edge.openStream();
    next.open(requestHead(), { fin: true, upgrade: false });
    // Frames go out on a later tick: only after it does agentIn show what was sent.
    await settle();
    const opens = agentIn.filter((f) => f.type === FrameType.OPEN);
    // Only the accepted OPEN went out, as the first stream id: the refused one used none.
    expect(opens.map((f) => f.streamId)).toEqual([1]);
    expect(next.id).toBe(1);
    expect(agentIn.filter((f) => f.streamId === 1).map((f) => f.type)).toEqual([FrameType.OPEN]);
  });

  it('refuses to OPEN a head whose frame is larger than the peer accepts', async () => {
    const { edge, agentIn } = createSessionPair();
    const big = ['X-Big', 'v'.repeat(TEST_MAX_FRAME)];
    const code = thrownCode(() =>
      edge.openStream().open(requestHead({ headers: big }), { fin: true, upgrade: false }),
    );
    expect(code).toBe('TUN_ERR_HEADERS_TOO_LARGE');
    await settle();
    expect(agentIn.filter((f) => f.type === FrameType.OPEN)).toEqual([]);
  });

  it.each([
    [
      'too many header fields',
      responseHead({ headers: manyHeaders(HEAD_LIMITS.maxFields + 1) }),
      'TUN_ERR_HEAD_TOO_LARGE',
    ],
    [
      'a frame larger than the peer accepts',
      responseHead({ headers: ['X-Big', 'v'.repeat(TEST_MAX_FRAME)] }),
      'TUN_ERR_HEAD_TOO_LARGE',
    ],
    ['status 99', responseHead({ status: 99 }), 'TUN_ERR_HEAD_INVALID'],
    ['status 1000', responseHead({ status: 1000 }), 'TUN_ERR_HEAD_INVALID'],
    ['a reason phrase over 512 chars', responseHead({ statusText: 'x'.repeat(513) }), 'TUN_ERR_HEAD_INVALID'],
  ] as const)(
    'refuses to send a HEAD with %s and leaves the stream to be reset',
    async (_what, head, code) => {
      const { edge, agent, edgeClose, agentClose } = createSessionPair();
      const accepted: Promise<MuxStream> = new Promise((resolve) => agent.once('stream', resolve));
      const s = edge.openStream();
      const reset: Promise<TunnelError> = new Promise((resolve) => s.once('reset', resolve));
      s.open(requestHead(), { fin: true, upgrade: false });
      const acceptor = await accepted;
      expect(thrownCode(() => acceptor.respond(head, { fin: true }))).toBe(code);
      acceptor.reset(new TunnelError(code));
      expect((await reset).code).toBe(code);
      expect(edgeClose.closed || agentClose.closed).toBe(false);
    },
  );
});
