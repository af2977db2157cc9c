/**
 * Property: whatever response head an origin sends, it costs no more than its own
 * exchange. The viewer gets the origin's response faithfully, or a clear 502 with an
 * X-Burrow-Error code, or (only when the head was valid and the body then broke) a cut
 * connection; never a hang, never a mangled next response on the same connection. The
 * agent's session survives and another tunnel of the same agent keeps answering.
 */

import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from './harness.js';
import {
  burrowErrorProblem,
  controlRequest,
  exchange,
  fuzzParameters,
  header,
  propertyTestTimeoutMs,
  sessionLosses,
  settled,
  show,
  startRig,
  type RawResponse,
  type Rig,
} from './property-support.js';

type Framing =
  | 'cl'
  | 'none'
  | 'chunked'
  | 'cl-short'
  | 'cl-long'
  | 'cl-conflict'
  | 'cl-list'
  | 'cl-list-same'
  | 'cl-dup-same'
  | 'cl-bad'
  | 'cl-te'
  | 'bad-chunked';

interface OriginResponse {
  /** The three characters sent as the status code ("099", "200", "999"). */
  status: string;
  reason: string;
  headers: [string, string][];
  framing: Framing;
  body: string;
}

/** What the viewer may see for a response. */
type Expectation = 'faithful' | 'faithful-or-502' | '502' | 'cut-or-502';

let rig: Rig;
let originServer: Server;
const cases = new Map<string, Buffer>();
let serial = 0;

/** Answers `/case/<id>` with the bytes registered for it and `/ok/<id>` normally; closes after. */
function rawOrigin(socket: Socket): void {
  let buf = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (buf.indexOf('\r\n\r\n') === -1) return;
    socket.removeAllListeners('data');
    const target = buf.toString('latin1').split(' ', 2)[1] ?? '';
    const id = target.split('/')[2] ?? '';
    const body = `ok ${id}`;
    const bytes = target.startsWith('/case/')
      ? (cases.get(id) ?? Buffer.from('HTTP/1.1 500 Unknown case\r\nContent-Length: 0\r\n\r\n'))
      : Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    socket.end(bytes);
  });
}

beforeAll(async () => {
  originServer = createServer(rawOrigin);
  await new Promise<void>((r) => originServer.listen(0, '127.0.0.1', r));
  const address = originServer.address();
  if (address === null || typeof address === 'string') throw new Error('origin has no port');
  rig = await startRig({ fuzzOriginPort: address.port });
}, 60_000);

afterAll(async () => {
  await stopAll();
  await new Promise((r) => originServer.close(r));
});

const TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const tokenChar = fc.constantFrom(...TOKEN);
const anyByteExceptLineEnd = fc
  .integer({ min: 0, max: 255 })
  .filter((c) => c !== 0x0a && c !== 0x0d)
  .map((c) => String.fromCharCode(c));
const hostile = fc.oneof({ weight: 6, arbitrary: tokenChar }, { weight: 1, arbitrary: anyByteExceptLineEnd });

/** Names a proxy handles itself (framing, hop-by-hop): generated only by the framing choice. */
const SPECIAL =
  /^(content-length|transfer-encoding|connection|keep-alive|te|trailer|upgrade|proxy-.*|date)$/i;

const statusArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('200', '201', '204', '301', '304', '404', '418', '500', '503') },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')) },
);
const reasonArb = fc.oneof(
  fc.constantFrom('OK', '', 'Not Found', 'Ünïcödé', 'tab\there'),
  fc.string({ unit: anyByteExceptLineEnd, maxLength: 40 }),
);
const fewHeaders = fc.array(
  fc.tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: tokenChar, minLength: 1, maxLength: 16 }) },
      { weight: 1, arbitrary: fc.string({ unit: hostile, maxLength: 16 }) },
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: tokenChar, maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: hostile, maxLength: 40 }) },
    ),
  ),
  { maxLength: 12 },
);
const manyHeaders = fc
  .oneof(fc.integer({ min: 900, max: 1_100 }), fc.integer({ min: 1_900, max: 2_200 }))
  .map((count) => Array.from({ length: count }, (_, i): [string, string] => [`h${i.toString(36)}`, 'v']));
const framingArb = fc.constantFrom<Framing>(
  'cl',
  'none',
  'chunked',
  'cl-short',
  'cl-long',
  'cl-conflict',
  'cl-list',
  'cl-list-same',
  'cl-dup-same',
  'cl-bad',
  'cl-te',
  'bad-chunked',
);

/** Builds responses from parts; the parts not under test stay plain so each class fails on its own. */
function responses(parts: {
  status?: fc.Arbitrary<string>;
  reason?: fc.Arbitrary<string>;
  headers?: fc.Arbitrary<[string, string][]>;
  framing?: fc.Arbitrary<Framing>;
}): fc.Arbitrary<OriginResponse> {
  return fc
    .record({
      status: parts.status ?? fc.constant('200'),
      reason: parts.reason ?? fc.constant('OK'),
      headers: parts.headers ?? fc.constant<[string, string][]>([['X-Plain', 'yes']]),
      framing: parts.framing ?? fc.constant<Framing>('cl'),
      body: fc.string({
        unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
        maxLength: 200,
      }),
    })
    .map((r) => {
      const headers = r.headers.filter(([name]) => !SPECIAL.test(name));
      const code = Number(r.status);
      // These statuses never carry a body; give them none so only the head is under test.
      const bodyless = (code >= 100 && code < 200) || code === 204 || code === 304;
      return bodyless ? { ...r, headers, framing: 'none' as const, body: '' } : { ...r, headers };
    })
    .map((r) =>
      Object.assign(r, {
        [fc.toStringMethod]: (): string => {
          const h = r.headers.map(([n, v]) => `${n}: ${v}`);
          const shown = h.length > 8 ? [...h.slice(0, 4), `…${h.length - 6} more…`, ...h.slice(-2)] : h;
          return JSON.stringify({ ...r, headers: shown });
        },
      }),
    );
}

function serialize(r: OriginResponse): Buffer {
  const n = r.body.length;
  const framing: [string, string][] = {
    cl: [['Content-Length', String(n)]],
    none: [],
    chunked: [['Transfer-Encoding', 'chunked']],
    'cl-short': [['Content-Length', String(n + 10)]],
    'cl-long': [['Content-Length', String(Math.max(0, n - 5))]],
    'cl-conflict': [
      ['Content-Length', String(n)],
      ['Content-Length', String(n + 3)],
    ],
    'cl-list': [['Content-Length', `${n}, ${n + 3}`]],
    'cl-list-same': [['Content-Length', `${n}, ${n}`]],
    'cl-dup-same': [
      ['Content-Length', String(n)],
      ['Content-Length', String(n)],
    ],
    'cl-bad': [['Content-Length', `${n}x`]],
    'cl-te': [
      ['Content-Length', String(n + 7)],
      ['Transfer-Encoding', 'chunked'],
    ],
    'bad-chunked': [['Transfer-Encoding', 'chunked']],
  }[r.framing] as [string, string][];
  let head = `HTTP/1.1 ${r.status} ${r.reason}\r\n`;
  // The origin closes after each answer; saying so keeps the agent from reusing the socket.
  for (const [name, value] of [['Connection', 'close'], ...r.headers, ...framing])
    head += `${name}: ${value}\r\n`;
  let body = r.body;
  if (r.framing === 'chunked' || r.framing === 'cl-te')
    body = n === 0 ? '0\r\n\r\n' : `${n.toString(16)}\r\n${r.body}\r\n0\r\n\r\n`;
  if (r.framing === 'bad-chunked') body = `zz\r\n${r.body}\r\n0\r\n\r\n`;
  return Buffer.from(`${head}\r\n${body}`, 'latin1');
}

const VALUE_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
const NAME_OK = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What HTTP lets a proxy do with this response. */
function expectationFor(r: OriginResponse): Expectation {
  const code = Number(r.status);
  if (!/^\d{3}$/.test(r.status) || code < 100 || code > 599) return '502';
  if (code < 200) return '502'; // an interim response and then a close: there is no final answer
  if (r.headers.some(([name, value]) => !NAME_OK.test(name) || !VALUE_OK.test(value))) return '502';
  if (r.framing === 'cl-conflict' || r.framing === 'cl-list' || r.framing === 'cl-bad') return '502';
  if (r.framing === 'cl-short' || r.framing === 'bad-chunked') return 'cut-or-502';
  const headBytes = r.headers.reduce((sum, [n, v]) => sum + n.length + v.length + 4, 0);
  // Big heads may be refused; odd-but-legal framing and reason phrases may be either way.
  if (r.headers.length > 100 || headBytes > 8_192) return 'faithful-or-502';
  const odd: readonly Framing[] = ['cl-long', 'cl-dup-same', 'cl-list-same', 'cl-te'];
  if (odd.includes(r.framing)) return 'faithful-or-502';
  if (!VALUE_OK.test(r.reason)) return 'faithful-or-502';
  return 'faithful';
}

/** Why `res` is not the origin's response, or null if it is. */
function unfaithful(r: OriginResponse, res: RawResponse): string | null {
  if (res.status !== Number(r.status)) return `status ${res.status} instead of ${r.status}`;
  if (!res.complete) return `the body was cut after ${res.body.length} bytes`;
  const wantBody = r.framing === 'cl-long' ? r.body.slice(0, Math.max(0, r.body.length - 5)) : r.body;
  if (res.body.toString('latin1') !== wantBody) {
    return `body ${show(res.body, 80)} instead of ${show(wantBody, 80)}`;
  }
  if (
    header(res.headers, 'content-length').length > 0 &&
    header(res.headers, 'transfer-encoding').length > 0
  ) {
    return 'the viewer got both Content-Length and Transfer-Encoding';
  }
  let at = 0;
  for (const [name, value] of r.headers) {
    const want = value.replace(/^[ \t]+|[ \t]+$/g, '');
    let found = -1;
    for (let i = at; i < res.headers.length; i += 2) {
      if (res.headers[i]!.toLowerCase() === name.toLowerCase() && res.headers[i + 1] === want) {
        found = i;
        break;
      }
    }
    if (found === -1)
      return `header ${show(`${name}: ${want}`, 80)} lost, changed or reordered (got ${show(JSON.stringify(res.headers), 200)})`;
    at = found + 2;
  }
  return null;
}

function isClear502(res: RawResponse): string | null {
  if (res.status !== 502) return `status ${res.status} instead of a clear 502`;
  return burrowErrorProblem(res);
}

async function check(r: OriginResponse): Promise<void> {
  await settled(rig);
  const lossesBefore = sessionLosses(rig).count;
  const id = String(++serial);
  cases.set(id, serialize(r));
  const host = rig.edge.host(rig.fuzzName);
  const first = Buffer.from(`GET /case/${id} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const second = Buffer.from(`GET /ok/${id} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const [result, control] = await Promise.all([
    exchange(rig.edge.port, [{ bytes: first }, { bytes: second }], 5_000),
    controlRequest(rig, id),
  ]);
  cases.delete(id);
  const expectation = expectationFor(r);
  const problems: string[] = [];
  const [res, next] = result.responses;
  if (result.garbled !== null)
    problems.push(`the viewer got bytes that are not HTTP: ${show(result.garbled)}`);
  else if (!res)
    problems.push(result.timedOut ? 'no answer within 5 s' : 'the connection closed without a response');
  else {
    const faithful = unfaithful(r, res);
    const clear = isClear502(res);
    const verdict = {
      faithful: faithful,
      '502': clear,
      'faithful-or-502':
        faithful !== null && clear !== null ? `${faithful}; and not a clear 502 (${clear})` : null,
      'cut-or-502':
        res.complete && clear !== null ? `a broken body arrived as a complete response (${clear})` : null,
    }[expectation];
    if (verdict !== null) problems.push(`expected ${expectation}: ${verdict}`);
    if (res.complete) {
      // The same connection either serves the next request cleanly or was announced closed.
      if (next) {
        if (next.status !== 200 || next.body.toString() !== `ok ${id}`) {
          problems.push(
            `the next response on the connection was mangled: ${next.status} ${show(next.body, 80)}`,
          );
        }
      } else if (result.closed && !header(res.headers, 'connection').some((v) => /close/i.test(v))) {
        problems.push('the edge closed a keep-alive connection after a complete response');
      } else if (result.timedOut)
        problems.push('the next request on the connection got no answer within 5 s');
      if (result.leftover.length > 0)
        problems.push(`stray bytes after the responses: ${show(result.leftover, 80)}`);
    }
  }
  if (control !== null) problems.push(control);
  const losses = sessionLosses(rig);
  if (losses.count !== lossesBefore) problems.push(`the agent session closed (${losses.last})`);
  if (rig.agent.child.exitCode !== null) problems.push('the agent process exited');
  expect(problems, `origin sent ${show(serialize(r), 600)}`).toEqual([]);
}

describe('origin response heads (property, against running edge and agent)', () => {
  const timeout = propertyTestTimeoutMs();

  it('random status codes and reason phrases fail alone', { timeout }, async () => {
    const arb = responses({ status: statusArb, reason: reasonArb });
    await fc.assert(fc.asyncProperty(arb, check), fuzzParameters('origin status and reason'));
  });

  it('random header names and values fail alone', { timeout }, async () => {
    const arb = responses({ headers: fewHeaders });
    await fc.assert(fc.asyncProperty(arb, check), fuzzParameters('origin header bytes'));
  });

  it('around 1000 and 2000 response headers fail alone', { timeout }, async () => {
    const arb = responses({ headers: manyHeaders });
    await fc.assert(fc.asyncProperty(arb, check), fuzzParameters('origin header count'));
  });

  it(
    'random framing (Content-Length, Transfer-Encoding, short and long bodies) fails alone',
    { timeout },
    async () => {
      const arb = responses({ framing: framingArb });
      await fc.assert(fc.asyncProperty(arb, check), fuzzParameters('origin framing'));
    },
  );

  it('all of it at once fails alone', { timeout }, async () => {
    const arb = responses({
      status: statusArb,
      reason: reasonArb,
      headers: fc.oneof({ weight: 4, arbitrary: fewHeaders }, { weight: 1, arbitrary: manyHeaders }),
      framing: framingArb,
    });
    await fc.assert(fc.asyncProperty(arb, check), fuzzParameters('origin everything'));
  });
});
