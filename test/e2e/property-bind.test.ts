/**
 * Property: bursts of BINDs sent in one write, from one or several sessions at once,
 * anonymous or with a key, never get more tunnels than the quotas in force
 * (tunnels.anonymousTunnelsPerIp, limits.maxTunnelsPerSession, limits.tunnelsPerKey), every
 * BIND is answered, and the edge keeps serving another agent's tunnels meanwhile.
 */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  FrameDecoder,
  FrameType,
  WEBSOCKET_SUBPROTOCOL,
  decodeBindAck,
  encodeFrame,
  encodeJson,
  type BindAck,
} from '@burrow/protocol';
import { createApiKey, startEdge, startOrigin, stopAll } from './harness.js';
import { originHandler } from './origin.js';
import {
  controlRequest,
  fuzzParameters,
  propertyTestTimeoutMs,
  sessionLosses,
  settled,
  sleep,
  startRig,
  type Rig,
} from './property-support.js';

/** The edge's defaults (see packages/edge/src/config/edge-schema.ts), set explicitly. */
const ANONYMOUS_TUNNELS_PER_IP = 5;
const MAX_TUNNELS_PER_SESSION = 20;
const TUNNELS_PER_KEY = 50;
const SESSIONS_PER_KEY = 10;

let rig: Rig;
let burstKey: string;
let serial = 0;

beforeAll(async () => {
  const edge = await startEdge({
    env: {
      BURROW_TUNNELS_ANONYMOUS_TUNNELS_PER_IP: String(ANONYMOUS_TUNNELS_PER_IP),
      BURROW_LIMITS_MAX_TUNNELS_PER_SESSION: String(MAX_TUNNELS_PER_SESSION),
      BURROW_LIMITS_TUNNELS_PER_KEY: String(TUNNELS_PER_KEY),
      BURROW_LIMITS_SESSIONS_PER_KEY: String(SESSIONS_PER_KEY),
    },
  });
  // The serving agent holds a key of its own, so it uses none of the quotas under test.
  const rigKey = await createApiKey(edge.dataDir, 'rig');
  burstKey = await createApiKey(edge.dataDir, 'burst');
  const origin = await startOrigin(originHandler);
  rig = await startRig({ fuzzOriginPort: origin.port, token: rigKey, edge });
}, 60_000);

afterAll(stopAll);

/** A hand-driven agent session that counts BIND_ACKs. */
class RawSession {
  readonly ws: WebSocket;
  readonly acks: BindAck[] = [];
  helloAcked = false;
  closed = false;
  private readonly decoder = new FrameDecoder({
    maxPayload: 1 << 24,
    onFrame: (f) => {
      if (f.type === FrameType.HELLO_ACK) this.helloAcked = true;
      if (f.type === FrameType.BIND_ACK) this.acks.push(decodeBindAck(Buffer.from(f.payload)));
    },
  });

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/_burrow/connect`, WEBSOCKET_SUBPROTOCOL);
    this.ws.on('message', (data: Buffer) => this.decoder.push(data));
    this.ws.on('error', () => undefined);
    this.ws.on('close', () => (this.closed = true));
  }

  async hello(token: string | null): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error('closed before opening')));
    });
    const hello = { versions: [1], agent: 'burst', token, window: 65536, maxFramePayload: 65536 };
    this.ws.send(encodeFrame(FrameType.HELLO, 0, 0, encodeJson(hello)));
    await until(() => this.helloAcked || this.closed, 5_000);
    if (!this.helloAcked) throw new Error('no HELLO_ACK');
  }

  /** All BINDs in ONE WebSocket message, so the edge reads them in one turn. */
  burst(names: (string | null)[]): void {
    const frames = names.map((name, i) =>
      encodeFrame(FrameType.BIND, 0, 0, encodeJson({ id: i + 1, proto: 'http', name, resumeToken: null })),
    );
    this.ws.send(Buffer.concat(frames));
  }

  async close(): Promise<void> {
    this.ws.terminate();
    await until(() => this.closed, 5_000);
  }
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(10);
}

interface Burst {
  anonymous: boolean;
  /** One list of wanted names (null: a temporary name) per concurrent session. */
  sessions: (string | null)[][];
}

const wantedName = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{2,10}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('a', 'same-name', 'UPPER', '-bad-', 'x'.repeat(70), '', 'dots.in.name'),
  },
);

const bursts: fc.Arbitrary<Burst> = fc
  .record({
    anonymous: fc.boolean(),
    sessions: fc.array(fc.array(wantedName, { minLength: 1, maxLength: 300 }), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map((b) =>
    Object.assign(b, {
      [fc.toStringMethod]: (): string =>
        `${b.anonymous ? 'anonymous' : 'keyed'} bursts of ${b.sessions.map((s) => s.length).join(' + ')} BINDs; names ${JSON.stringify(b.sessions.map((s) => s.slice(0, 5)))}…`,
    }),
  );

async function check(b: Burst): Promise<void> {
  await settled(rig);
  const lossesBefore = sessionLosses(rig).count;
  const sessions = b.sessions.map(() => new RawSession(rig.edge.port));
  const problems: string[] = [];
  try {
    await Promise.all(sessions.map((s) => s.hello(b.anonymous ? null : burstKey)));
    sessions.forEach((s, i) => s.burst(b.sessions[i]!));
    const control = controlRequest(rig, `bind-${++serial}`);
    await until(() => sessions.every((s, i) => s.closed || s.acks.length >= b.sessions[i]!.length), 10_000);
    const controlProblem = await control;
    if (controlProblem !== null) problems.push(controlProblem);
    let total = 0;
    sessions.forEach((s, i) => {
      const ok = s.acks.filter((a) => a.ok).length;
      total += ok;
      if (s.acks.length !== b.sessions[i]!.length) {
        problems.push(
          `session ${i}: ${s.acks.length} BIND_ACKs for ${b.sessions[i]!.length} BINDs${s.closed ? ' (closed)' : ''}`,
        );
      }
      if (ok > MAX_TUNNELS_PER_SESSION)
        problems.push(`session ${i}: ${ok} tunnels bound, limit ${MAX_TUNNELS_PER_SESSION}`);
      for (const a of s.acks) {
        if (!a.ok && !/^TUN_ERR_[A-Z_]+$/.test(a.code))
          problems.push(`refusal without a code: ${JSON.stringify(a)}`);
      }
    });
    const limit = b.anonymous ? ANONYMOUS_TUNNELS_PER_IP : TUNNELS_PER_KEY;
    if (total > limit) {
      problems.push(
        `${total} ${b.anonymous ? 'anonymous tunnels for one address' : 'tunnels for one key'}, limit ${limit}`,
      );
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
  const losses = sessionLosses(rig);
  if (losses.count !== lossesBefore) problems.push(`the serving agent's session closed (${losses.last})`);
  const after = await controlRequest(rig, `bind-after-${serial}`);
  if (after !== null) problems.push(`after the burst: ${after}`);
  expect(problems).toEqual([]);
}

describe('BIND bursts (property, against a running edge)', () => {
  const timeout = propertyTestTimeoutMs();

  it('one session bursting BINDs in one write never passes the quotas', { timeout }, async () => {
    const single = bursts.filter((b) => b.sessions.length === 1);
    await fc.assert(fc.asyncProperty(single, check), fuzzParameters('bind bursts, one session'));
  });

  it('several sessions bursting at once never pass the quotas together', { timeout }, async () => {
    await fc.assert(fc.asyncProperty(bursts, check), fuzzParameters('bind bursts, concurrent sessions'));
  });
});
