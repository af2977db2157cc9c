/**
 * Fuzz properties for the wire protocol: the frame decoder and a Session (edge and agent
 * role) fed arbitrary bytes and arbitrary sequences of well-formed-looking frames.
 *
 * The contract under test: hostile input never throws out of a transport callback, never
 * hangs, and either leaves the session open or closes it with a TunnelError from the
 * catalog, announced to the peer by a final GOAWAY carrying that error's wire code. The
 * decoder alone only ever throws TunnelError.
 *
 * `protocolFuzzTargets()` is what runs them: the unit suite calls it with a small numRuns,
 * a long run (e.g. BURROW_FUZZ_RUNS=100000) uses the same properties.
 */

import fc from 'fast-check';
import { FrameDecoder, type Frame } from '../../packages/protocol/src/decoder.js';
import { ERROR_CATALOG, TunnelError } from '../../packages/protocol/src/errors.js';
import { encodeFrame, FrameType, MAX_PAYLOAD_HARD_LIMIT } from '../../packages/protocol/src/frame.js';
import { Session, type SessionRole } from '../../packages/protocol/src/session.js';
import { FakeTimers } from '../../packages/protocol/src/test-support/fake-timers.js';
import type { Transport, TransportHandlers } from '../../packages/protocol/src/transport/transport.js';

const MAX_FRAME = 256;
const WINDOW = 1024;

export interface FuzzTarget {
  name: string;
  /** Runs the property; rejects with fast-check's counterexample report on failure. */
  check(options: { numRuns: number; seed?: number }): Promise<void>;
}

// ---- arbitraries ------------------------------------------------------------------------

const requestHeadJson = {
  tunnel: 'demo',
  method: 'GET',
  path: '/',
  headers: ['Host', 'demo.example.com'],
  remoteAddress: '203.0.113.7',
  requestId: 'r1',
};
const responseHeadJson = { status: 200, statusText: 'OK', headers: ['Content-Length', '0'] };

function u32(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

const jsonBytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value), 'utf8');

/** Payloads that are sometimes exactly what a type expects and sometimes slightly off. */
const payloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc.uint8Array({ minLength: MAX_FRAME - 2, maxLength: MAX_FRAME + 2 }),
  fc.constant(new Uint8Array(0)),
  fc.constant(jsonBytes(requestHeadJson)),
  fc.constant(jsonBytes(responseHeadJson)),
  fc.record({ code: fc.integer({ min: 0, max: 40 }), message: fc.string({ maxLength: 20 }) }).map(jsonBytes),
  fc.json({ maxDepth: 2 }).map((s) => Buffer.from(s, 'utf8')),
  fc.integer({ min: 0, max: 0xffff_ffff }).map(u32),
  fc.constantFrom(u32(WINDOW / 2), u32(0), u32(0x7fff_ffff)),
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
);

const typeArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...Object.values(FrameType)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xff }) },
);

const streamIdArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(0, 1, 2, 3, 5, 7, 9) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
);

const flagsArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(0, 1, 2, 3) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xff }) },
);

interface FuzzFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
  /** Rarely, a version byte other than 1. */
  version: number | null;
}

/** Anything goes: random type, flags, stream id and payload. */
const looseFrameArb: fc.Arbitrary<FuzzFrame> = fc.record({
  type: typeArb,
  flags: flagsArb,
  streamId: streamIdArb,
  payload: payloadArb,
  version: fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(0xff) }),
});

/**
 * One step of a peer's conversation. Stream-level steps name "the k-th stream opened so far"
 * rather than an id, so most sequences stay plausible and reach deep stream states.
 */
type Step =
  | { kind: 'open'; flags: number }
  | { kind: 'head'; k: number; flags: number }
  | { kind: 'data'; k: number; size: number; flags: number }
  | { kind: 'end'; k: number }
  | { kind: 'window'; k: number; increment: number }
  | { kind: 'reset'; k: number; code: number }
  | { kind: 'ping' | 'pong'; payload: Uint8Array }
  | { kind: 'goaway'; code: number }
  | { kind: 'control'; type: number; payload: Uint8Array }
  | { kind: 'loose'; frame: FuzzFrame };

const k = fc.nat(7);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('open' as const), flags: fc.constantFrom(0, 0, 1, 2, 3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('head' as const), k, flags: fc.constantFrom(0, 1) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('data' as const),
      k,
      size: fc.oneof(fc.nat(MAX_FRAME), fc.constant(MAX_FRAME)),
      flags: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('end' as const), k }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('window' as const),
      k,
      increment: fc.oneof(
        { weight: 20, arbitrary: fc.nat(2 * WINDOW) },
        { weight: 1, arbitrary: fc.constant(0x7fff_ffff) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), k, code: fc.nat(40) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('ping' as const, 'pong' as const),
      payload: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('goaway' as const), code: fc.nat(40) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('control' as const),
      type: fc.constantFrom(
        FrameType.HELLO,
        FrameType.HELLO_ACK,
        FrameType.BIND,
        FrameType.BIND_ACK,
        FrameType.ERROR,
      ),
      payload: fc.json({ maxDepth: 1 }).map((j) => Buffer.from(j, 'utf8')),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('loose' as const), frame: looseFrameArb }) },
);

function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(0),
): FuzzFrame {
  return { type, flags, streamId, payload, version: null };
}

/** Turns steps into the frames a peer of `role`'s session would send. */
function stepsToFrames(role: SessionRole, steps: Step[]): FuzzFrame[] {
  // The edge session under test opened streams 1, 3 and 5 itself; an agent session has none yet.
  const opened = role === 'edge' ? [1, 3, 5] : [];
  const headSent = new Set<number>();
  let nextId = role === 'edge' ? 7 : 1;
  const idOf = (k: number): number => (opened.length === 0 ? 1 : opened[k % opened.length]!);
  // An agent's peer starts by opening a stream, or nearly every sequence dies on its first frame.
  if (role === 'agent') steps = [{ kind: 'open', flags: 0 }, ...steps];
  return steps.map((original): FuzzFrame => {
    let step = original;
    // OPEN toward the edge is always a violation; keep one in five.
    if (role === 'edge' && step.kind === 'open' && step.flags !== 3) {
      step = { kind: 'data', k: step.flags, size: MAX_FRAME, flags: 0 };
    }
    // Keep the well-known violations (HEAD to the acceptor, body before HEAD) to about one
    // step in eight, so most sequences get deep enough to exercise windows and states.
    if ('k' in step && step.k !== 7) {
      const id = idOf(step.k);
      if (role === 'agent' && step.kind === 'head') {
        step = { kind: 'data', k: step.k, size: MAX_FRAME, flags: 0 };
      } else if (role === 'edge' && !headSent.has(id) && (step.kind === 'data' || step.kind === 'end')) {
        step = { kind: 'head', k: step.k, flags: 0 };
      }
      if (step.kind === 'head') headSent.add(id);
    }
    switch (step.kind) {
      case 'open':
        opened.push(nextId);
        nextId += 2;
        return frame(FrameType.OPEN, step.flags, opened.at(-1)!, jsonBytes(requestHeadJson));
      case 'head':
        return frame(FrameType.HEAD, step.flags, idOf(step.k), jsonBytes(responseHeadJson));
      case 'data':
        return frame(FrameType.DATA, step.flags, idOf(step.k), new Uint8Array(step.size));
      case 'end':
        return frame(FrameType.END, 0, idOf(step.k));
      case 'window':
        return frame(FrameType.WINDOW, 0, idOf(step.k), u32(step.increment));
      case 'reset':
        return frame(FrameType.RESET, 0, idOf(step.k), jsonBytes({ code: step.code, message: 'fuzz' }));
      case 'ping':
        return frame(FrameType.PING, 0, 0, step.payload);
      case 'pong':
        return frame(FrameType.PONG, 0, 0, step.payload);
      case 'goaway':
        return frame(FrameType.GOAWAY, 0, 0, jsonBytes({ code: step.code, message: 'fuzz' }));
      case 'control':
        return frame(step.type, 0, 0, step.payload);
      case 'loose':
        return step.frame;
    }
  });
}

function encodeFuzzFrame(f: FuzzFrame): Buffer {
  // encodeFrame takes a FrameType; unknown types are written as-is to the type byte.
  const frame = encodeFrame(FrameType.DATA, f.flags, f.streamId, f.payload);
  frame[1] = f.type;
  if (f.version !== null) frame[0] = f.version;
  return frame;
}

/** A peer's frames for `role`, concatenated and re-split at arbitrary points. */
function frameChunksArb(role: SessionRole): fc.Arbitrary<Buffer[]> {
  return fc
    .tuple(fc.array(stepArb, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 16 }))
    .map(([steps, cuts]) => splitBytes(Buffer.concat(stepsToFrames(role, steps).map(encodeFuzzFrame)), cuts));
}

function splitBytes(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Arbitrary chunks; half the time the first byte is the right version so headers get further. */
const byteChunksArb: fc.Arbitrary<Buffer[]> = fc
  .tuple(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }))
  .map(([versioned, chunks]) => {
    const buffers = chunks.map((c) => Buffer.from(c));
    if (versioned && buffers[0] && buffers[0].length > 0) buffers[0][0] = 1;
    return buffers;
  });

// ---- a session on a synchronous stub transport --------------------------------------------

interface Harness {
  session: Session;
  clock: FakeTimers;
  /** Feeds one chunk through the transport callback; returns what it threw, if anything. */
  feed(chunk: Buffer): unknown;
  sentFrames(): Frame[];
  closed: boolean;
  closeErr: TunnelError | undefined;
  transportEnded: boolean;
}

function createHarness(role: SessionRole): Harness {
  let handlers: TransportHandlers | null = null;
  const sent: Buffer[] = [];
  const transport: Transport = {
    attach: (h) => (handlers = h),
    send: (data) => sent.push(Buffer.from(data)),
    sendAll: (data) => sent.push(...data.map((d) => Buffer.from(d))),
    bufferedAmount: 0,
    close: () => (harness.transportEnded = true),
    destroy: () => (harness.transportEnded = true),
    remoteAddress: 'fuzz',
  };
  const clock = new FakeTimers();
  const session = new Session({
    transport,
    role,
    maxFramePayload: MAX_FRAME,
    window: WINDOW,
    maxStreams: 3,
    heartbeatMs: 1000,
    deadPeerMs: 3000,
    timers: clock,
  });
  const harness: Harness = {
    session,
    clock,
    closed: false,
    closeErr: undefined,
    transportEnded: false,
    feed(chunk) {
      try {
        handlers!.onData(chunk);
        return undefined;
      } catch (err) {
        return err ?? new Error('threw a nullish value');
      }
    },
    sentFrames() {
      const frames: Frame[] = [];
      const decoder = new FrameDecoder({
        maxPayload: MAX_PAYLOAD_HARD_LIMIT,
        onFrame: (f) => frames.push(f),
      });
      for (const chunk of sent) decoder.push(chunk);
      return frames;
    },
  };
  session.on('close', (err) => {
    harness.closed = true;
    harness.closeErr = err;
  });
  // Behave like a busy owner so that input reaches live streams in every state.
  if (role === 'edge') {
    for (let i = 0; i < 3; i++) {
      const stream = session.openStream();
      stream.on('data', () => {});
      stream.open(requestHeadJson, { fin: i === 0, upgrade: i === 2 });
      if (i !== 0) stream.write(Buffer.alloc(300, i));
      if (i === 2) stream.pause();
    }
  } else {
    let n = 0;
    session.on('stream', (stream) => {
      stream.on('data', () => {});
      if (n++ % 2 === 1) {
        stream.respond(responseHeadJson, { fin: false });
        stream.write(Buffer.alloc(300, n));
      } else {
        stream.pause();
      }
    });
  }
  return harness;
}

const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await Promise.resolve();
};

/** The invariant every run must satisfy once its input has been fed. */
function checkOutcome(h: Harness): void {
  if (!h.closed) {
    if (h.session.isClosed) throw new Error('session is closed but never emitted close');
    return;
  }
  if (!(h.closeErr instanceof TunnelError))
    throw new Error(`closed with ${String(h.closeErr)}, not a TunnelError`);
  if (!(h.closeErr.code in ERROR_CATALOG))
    throw new Error(`closed with uncatalogued code ${h.closeErr.code}`);
  if (!h.transportEnded) throw new Error('session closed but left its transport open');
  const last = h.sentFrames().at(-1);
  if (!last || last.type !== FrameType.GOAWAY || last.streamId !== 0) {
    throw new Error('a session that fails must end with a GOAWAY');
  }
  const { code } = JSON.parse(last.payload.toString('utf8')) as { code: number };
  if (code !== h.closeErr.wire)
    throw new Error(`GOAWAY says ${code}, close error is wire ${h.closeErr.wire}`);
}

function describeValue(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value);
}

async function runSession(role: SessionRole, chunks: Buffer[]): Promise<void> {
  const h = createHarness(role);
  try {
    await microtasks();
    for (const chunk of chunks) {
      const thrown = h.feed(chunk);
      if (thrown !== undefined) throw new Error(`onData threw: ${describeValue(thrown)}`, { cause: thrown });
      await microtasks();
      if (h.closed) break;
    }
    checkOutcome(h);
    // Time passing afterwards must also end in an orderly way (keepalive, dead-peer timeout).
    h.clock.advance(5000);
    await microtasks();
    checkOutcome(h);
    if (!h.closed) throw new Error('a silent peer outlived deadPeerMs');
  } finally {
    h.session.destroy();
  }
}

// ---- the targets ------------------------------------------------------------------------

function decoderOnlyThrowsTunnelError(chunks: Buffer[]): void {
  const decoder = new FrameDecoder({ maxPayload: MAX_FRAME, onFrame: () => {} });
  try {
    for (const chunk of chunks) decoder.push(chunk);
  } catch (err) {
    if (!(err instanceof TunnelError))
      throw new Error(`decoder threw a non-TunnelError: ${describeValue(err)}`);
    if (!(err.code in ERROR_CATALOG)) throw new Error(`decoder threw uncatalogued ${err.code}`);
  }
}

export function protocolFuzzTargets(): FuzzTarget[] {
  const params = (o: { numRuns: number; seed?: number }) => ({
    numRuns: o.numRuns,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    // An async run that takes this long is a hang.
    timeout: 2000,
  });
  const targets: FuzzTarget[] = [
    {
      name: 'FrameDecoder: arbitrary bytes only ever throw TunnelError',
      check: (o) => {
        fc.assert(fc.property(byteChunksArb, decoderOnlyThrowsTunnelError), params(o));
        return Promise.resolve();
      },
    },
    {
      name: 'FrameDecoder: arbitrary frame sequences only ever throw TunnelError',
      check: (o) => {
        fc.assert(fc.property(frameChunksArb('agent'), decoderOnlyThrowsTunnelError), params(o));
        return Promise.resolve();
      },
    },
  ];
  for (const role of ['agent', 'edge'] as const) {
    targets.push(
      {
        name: `Session (${role}): arbitrary bytes never escape the transport callback`,
        check: (o) =>
          fc.assert(
            fc.asyncProperty(byteChunksArb, (chunks) => runSession(role, chunks)),
            params(o),
          ),
      },
      {
        name: `Session (${role}): arbitrary frame sequences never escape the transport callback`,
        check: (o) =>
          fc.assert(
            fc.asyncProperty(frameChunksArb(role), (chunks) => runSession(role, chunks)),
            params(o),
          ),
      },
    );
  }
  return targets;
}
