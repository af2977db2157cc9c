import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from './errors.js';
import { encodeFrame, FrameFlag, FrameType } from './frame.js';
import type { SessionRole } from './session.js';
import { json, type RawPeer } from './test-support/raw-peer.js';
import {
  createRawPair,
  destroyAllSessions,
  requestHead,
  responseHead,
  settle,
  TEST_MAX_FRAME,
  waitUntil,
} from './test-support/session-pair.js';

afterEach(() => destroyAllSessions());

interface Violation {
  name: string;
  role: SessionRole;
  /** Streams the edge session opens (with OPEN+FIN) before the peer misbehaves. */
  edgeStreams?: number;
  send: (raw: RawPeer) => void;
  code: ErrorCode;
}

const head = requestHead();

// A malformed or over-limit OPEN or HEAD is a per-stream failure: session-bad-heads.test.ts.
const violations: Violation[] = [
  {
    name: 'a frame with version 2',
    role: 'agent',
    send: (raw) => raw.sendBytes(Buffer.from('0208000000000001000000026869', 'hex')),
    code: 'TUN_ERR_BAD_VERSION',
  },
  {
    name: 'a frame of unknown type 0x10',
    role: 'agent',
    send: (raw) => raw.sendBytes(Buffer.from('011000000000000000000000', 'hex')),
    code: 'TUN_ERR_UNKNOWN_FRAME_TYPE',
  },
  {
    name: 'a header announcing one byte more than maxFramePayload (no payload follows)',
    role: 'agent',
    send: (raw) => {
      const header = encodeFrame(FrameType.DATA, 0, 1).subarray(0, 12);
      header.writeUInt32BE(TEST_MAX_FRAME + 1, 8);
      raw.sendBytes(header);
    },
    code: 'TUN_ERR_FRAME_TOO_LARGE',
  },
  {
    name: 'a control frame (BIND) on stream 1',
    role: 'agent',
    send: (raw) => raw.send(FrameType.BIND, 0, 1, { id: 1, proto: 'http', name: null, resumeToken: null }),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'a PING on stream 1',
    role: 'agent',
    send: (raw) => raw.send(FrameType.PING, 0, 1, Buffer.alloc(8)),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'DATA on stream 0',
    role: 'agent',
    send: (raw) => raw.send(FrameType.DATA, 0, 0, Buffer.from('x')),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'DATA for a stream that was never opened',
    role: 'agent',
    send: (raw) => raw.send(FrameType.DATA, 0, 7, Buffer.from('x')),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'OPEN with an even stream id',
    role: 'agent',
    send: (raw) => raw.send(FrameType.OPEN, 0, 2, head),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'OPEN reusing a stream id',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 3, head);
      raw.send(FrameType.OPEN, 0, 3, head);
    },
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'OPEN with a lower id than an earlier one',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 5, head);
      raw.send(FrameType.OPEN, 0, 3, head);
    },
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'a PING of 4 bytes',
    role: 'agent',
    send: (raw) => raw.send(FrameType.PING, 0, 0, Buffer.alloc(4)),
    code: 'TUN_ERR_BAD_MESSAGE',
  },
  {
    name: 'a PONG of 9 bytes',
    role: 'agent',
    send: (raw) => raw.send(FrameType.PONG, 0, 0, Buffer.alloc(9)),
    code: 'TUN_ERR_BAD_MESSAGE',
  },
  {
    name: 'a WINDOW of 3 bytes',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 1, head);
      raw.send(FrameType.WINDOW, 0, 1, Buffer.alloc(3));
    },
    code: 'TUN_ERR_BAD_MESSAGE',
  },
  {
    name: 'a RESET whose payload is not JSON',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 1, head);
      raw.send(FrameType.RESET, 0, 1, Buffer.from('boom'));
    },
    code: 'TUN_ERR_BAD_MESSAGE',
  },
  {
    name: 'a GOAWAY without a code',
    role: 'agent',
    send: (raw) => raw.send(FrameType.GOAWAY, 0, 0, { message: 'bye' }),
    code: 'TUN_ERR_BAD_MESSAGE',
  },
  {
    name: 'HEAD sent to the acceptor',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 1, head);
      raw.send(FrameType.HEAD, 0, 1, responseHead());
    },
    code: 'TUN_ERR_STREAM_STATE',
  },
  {
    name: 'DATA after END',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, 0, 1, head);
      raw.send(FrameType.END, 0, 1);
      raw.send(FrameType.DATA, 0, 1, Buffer.from('late'));
    },
    code: 'TUN_ERR_STREAM_STATE',
  },
  {
    name: 'DATA after OPEN with FIN',
    role: 'agent',
    send: (raw) => {
      raw.send(FrameType.OPEN, FrameFlag.FIN, 1, head);
      raw.send(FrameType.DATA, 0, 1, Buffer.from('late'));
    },
    code: 'TUN_ERR_STREAM_STATE',
  },
  {
    name: 'OPEN sent to the edge',
    role: 'edge',
    send: (raw) => raw.send(FrameType.OPEN, 0, 1, head),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'HEAD for a stream the edge never opened',
    role: 'edge',
    edgeStreams: 1,
    send: (raw) => raw.send(FrameType.HEAD, 0, 3, responseHead()),
    code: 'TUN_ERR_PROTOCOL',
  },
  {
    name: 'DATA from the acceptor before its HEAD',
    role: 'edge',
    edgeStreams: 1,
    send: (raw) => raw.send(FrameType.DATA, 0, 1, Buffer.from('too early')),
    code: 'TUN_ERR_STREAM_STATE',
  },
  {
    name: 'a second HEAD',
    role: 'edge',
    edgeStreams: 1,
    send: (raw) => {
      raw.send(FrameType.HEAD, 0, 1, responseHead());
      raw.send(FrameType.HEAD, 0, 1, responseHead());
    },
    code: 'TUN_ERR_STREAM_STATE',
  },
];

describe('Session protocol violations', () => {
  it.each(violations)('closes the $role session on $name with $code', async (v) => {
    const { session, raw, sessionClose } = createRawPair(v.role);
    const streamErrors: string[] = [];
    for (let i = 0; i < (v.edgeStreams ?? 0); i++) {
      const s = session.openStream();
      s.on('reset', (err) => streamErrors.push(err.code));
      s.open(requestHead(), { fin: true, upgrade: false });
    }
    session.on('stream', (s) => s.on('reset', (err) => streamErrors.push(err.code)));
    v.send(raw);
    await waitUntil(() => sessionClose.closed);
    expect(sessionClose.err?.code).toBe(v.code);
    expect(session.isClosed).toBe(true);
    await waitUntil(() => raw.closed);
    const goaway = raw.framesOf(FrameType.GOAWAY);
    expect(goaway).toHaveLength(1);
    expect(json(goaway[0]!)).toMatchObject({ code: ERROR_CATALOG[v.code].wire });
    // The GOAWAY is the last thing the session says.
    expect(raw.frames.at(-1)?.type).toBe(FrameType.GOAWAY);
    // Streams still open are reset with the same error.
    for (const code of streamErrors) expect(code).toBe(v.code);
  });

  it('passes control frames on stream 0 to its owner without judging them', async () => {
    const { session, raw, sessionClose } = createRawPair('edge');
    const seen: [number, string][] = [];
    session.on('control', (type, payload) => seen.push([type, payload.toString()]));
    for (const type of [
      FrameType.HELLO,
      FrameType.HELLO_ACK,
      FrameType.BIND,
      FrameType.BIND_ACK,
      FrameType.UNBIND,
      FrameType.ERROR,
    ]) {
      raw.send(type, 0, 0, Buffer.from(`payload ${type}`));
    }
    await settle();
    expect(seen.map(([t]) => t)).toEqual([1, 2, 3, 4, 5, 15]);
    expect(seen[2]![1]).toBe('payload 3');
    expect(sessionClose.closed).toBe(false);
  });

  it('ignores the reserved byte and flags it does not know', async () => {
    const { session, raw, sessionClose } = createRawPair('agent');
    const accepted: number[] = [];
    session.on('stream', (s) => accepted.push(s.id));
    const open = encodeFrame(FrameType.OPEN, 0xfc, 1, Buffer.from(JSON.stringify(head)));
    open[3] = 0x5a;
    raw.sendBytes(open);
    await settle();
    expect(accepted).toEqual([1]);
    expect(sessionClose.closed).toBe(false);
  });

  it('rejects a frame on an even stream id the edge never opened', async () => {
    const { session, raw, sessionClose } = createRawPair('edge');
    session.openStream().open(requestHead(), { fin: true, upgrade: false });
    session.openStream().open(requestHead(), { fin: true, upgrade: false });
    raw.send(FrameType.END, 0, 2);
    await waitUntil(() => sessionClose.closed, 50).catch(() => {});
    expect(sessionClose.err?.code).toBe('TUN_ERR_PROTOCOL');
  });
});
