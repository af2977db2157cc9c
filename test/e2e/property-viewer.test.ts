/**
 * Property: whatever request head a viewer sends over a raw socket, it costs no more than
 * its own exchange. It is answered (by the origin, or by the edge with a 4xx/5xx, a
 * readable body and an X-Burrow-Error code), the agent's session survives, and a request
 * on another tunnel of the same agent, sent at the same time, is answered untouched.
 * Heads that HTTP forbids a proxy to forward (two Hosts, ambiguous framing) must be refused.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, startOrigin, stopAll } from './harness.js';
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
  type Rig,
} from './property-support.js';

/** The edge's defaults (limits.maxHeaderBytes, limits.maxUrlBytes), set explicitly so sizes aim at them. */
const MAX_HEADER_BYTES = 16_384;
const MAX_URL_BYTES = 8_192;

let rig: Rig;
let requestSerial = 0;

/** Marks every response the origin made, so edge-made answers can be told apart. */
function fuzzOrigin(req: IncomingMessage, res: ServerResponse): void {
  void readBody(req).then(
    (body) => {
      const text = `origin saw ${req.method ?? ''} ${body.length}`;
      res.writeHead(200, { 'X-From-Origin': '1', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    },
    () => res.destroy(),
  );
}

beforeAll(async () => {
  // Above the edge's own head limits, so a head the edge passes is never the origin's 431.
  const origin = await startOrigin(fuzzOrigin, { maxHeaderSize: 1024 * 1024 });
  rig = await startRig({
    fuzzOriginPort: origin.port,
    edgeEnv: {
      BURROW_LIMITS_MAX_HEADER_BYTES: String(MAX_HEADER_BYTES),
      BURROW_LIMITS_MAX_URL_BYTES: String(MAX_URL_BYTES),
      // A body the head promised but never sent is cut off quickly instead of after a minute.
      BURROW_TIMEOUTS_BODY_IDLE_MS: '1500',
      BURROW_TIMEOUTS_HEADERS_MS: '3000',
    },
  });
}, 60_000);

afterAll(stopAll);

/** A viewer request, kept as parts so fast-check shrinks each one. */
interface ViewerRequest {
  method: string;
  target: string;
  /** Host header values in order; an empty list sends none. */
  hosts: string[];
  headers: [string, string][];
  body: string;
  /** HTTP forbids forwarding this head: it must be refused with a 4xx. */
  mustRefuse: string | null;
}

const TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const tokenChar = fc.constantFrom(...TOKEN);
const anyByte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
/** Mostly well-formed characters with hostile bytes mixed in. */
const mixedChar = fc.oneof({ weight: 6, arbitrary: tokenChar }, { weight: 1, arbitrary: anyByte });
const token = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: tokenChar, minLength: 1, maxLength: max });
const mixed = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: mixedChar, minLength: min, maxLength: max });

function serialize(r: ViewerRequest, hostOf: (i: number) => string): Buffer {
  let head = `${r.method} ${r.target} HTTP/1.1\r\n`;
  r.hosts.forEach((_, i) => (head += `Host: ${hostOf(i)}\r\n`));
  for (const [name, value] of r.headers) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n${r.body}`, 'latin1');
}

/** A plain GET to the fuzz tunnel: the baseline every class varies. */
function plain(overrides: Partial<ViewerRequest>): ViewerRequest {
  return {
    method: 'GET',
    target: '/echo',
    hosts: ['fuzz'],
    headers: [],
    body: '',
    mustRefuse: null,
    ...overrides,
  };
}

/** Many tiny headers: around 1000 and 2000 of them still fit in limits.maxHeaderBytes or just pass it. */
const headerCountRequests: fc.Arbitrary<ViewerRequest> = fc
  .tuple(
    fc.oneof(
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 900, max: 1_100 }),
      fc.integer({ min: 1_900, max: 2_100 }),
    ),
    fc.string({ unit: tokenChar, maxLength: 2 }),
  )
  .map(([count, value]) =>
    plain({
      headers: Array.from({ length: count }, (_, i): [string, string] => [`h${i.toString(36)}`, value]),
    }),
  );

/** Head sizes up to and past limits.maxHeaderBytes, in one header or spread over a few. */
const headerSizeRequests: fc.Arbitrary<ViewerRequest> = fc.oneof(
  fc
    .integer({ min: MAX_HEADER_BYTES - 400, max: MAX_HEADER_BYTES + 400 })
    .map((size) => plain({ headers: [['x-big', 'v'.repeat(size)]] })),
  fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 200, max: 1_200 })).map(([count, size]) =>
    plain({
      headers: Array.from({ length: count }, (_, i): [string, string] => [`x-s${i}`, 'w'.repeat(size)]),
    }),
  ),
);

/** Request targets around limits.maxUrlBytes. */
const urlRequests: fc.Arbitrary<ViewerRequest> = fc
  .integer({ min: MAX_URL_BYTES - 64, max: MAX_URL_BYTES + 64 })
  .map((length) => plain({ target: `/echo?q=${'u'.repeat(Math.max(0, length - 8))}` }));

/** Random bytes in the method, the request target, header names and values. */
const byteRequests: fc.Arbitrary<ViewerRequest> = fc
  .record({
    method: fc.oneof(
      fc.constantFrom(
        'GET',
        'POST',
        'PUT',
        'DELETE',
        'HEAD',
        'OPTIONS',
        'PATCH',
        'TRACE',
        'CONNECT',
        'PRI',
        'get',
      ),
      token(12),
      mixed(1, 12),
    ),
    target: fc.oneof(
      fc.constant('/echo'),
      mixed(0, 64).map((t) => `/echo/${t}`),
      mixed(1, 64),
      fc.constantFrom('*', 'http://other.example/x', '//double', '/t/../..'),
    ),
    headers: fc.array(fc.tuple(fc.oneof(token(20), mixed(0, 20)), mixed(0, 60)), { maxLength: 12 }),
  })
  .map((r) => plain({ ...r, body: '' }));

/** Content-Length / Transfer-Encoding combinations, duplicates and bad values. */
type Framing =
  | { kind: 'cl'; n: number }
  | { kind: 'cl-dup-same'; n: number }
  | { kind: 'cl-conflict'; a: number; b: number }
  | { kind: 'cl-list'; n: number }
  | { kind: 'cl-bad'; value: string }
  | { kind: 'chunked'; n: number }
  | { kind: 'te-bad'; value: string }
  | { kind: 'cl-te'; n: number }
  | { kind: 'te-dup'; n: number };

function chunked(body: string): string {
  return body.length === 0 ? '0\r\n\r\n' : `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
}

function framed(method: string, f: Framing): ViewerRequest {
  const body = (n: number): string => 'b'.repeat(n);
  switch (f.kind) {
    case 'cl':
      return plain({ method, headers: [['Content-Length', String(f.n)]], body: body(f.n) });
    case 'cl-dup-same':
      return plain({
        method,
        headers: [
          ['Content-Length', String(f.n)],
          ['Content-Length', String(f.n)],
        ],
        body: body(f.n),
      });
    case 'cl-conflict':
      return plain({
        method,
        headers: [
          ['Content-Length', String(f.a)],
          ['Content-Length', String(f.b)],
        ],
        body: body(Math.max(f.a, f.b)),
        mustRefuse: 'two different Content-Length values',
      });
    case 'cl-list':
      return plain({
        method,
        headers: [['Content-Length', `${f.n}, ${f.n + 1}`]],
        body: body(f.n + 1),
        mustRefuse: 'a Content-Length list',
      });
    case 'cl-bad':
      return plain({
        method,
        headers: [['Content-Length', f.value]],
        body: body(4),
        mustRefuse: 'an invalid Content-Length',
      });
    case 'chunked':
      return plain({ method, headers: [['Transfer-Encoding', 'chunked']], body: chunked(body(f.n)) });
    case 'te-bad':
      return plain({
        method,
        headers: [['Transfer-Encoding', f.value]],
        body: chunked(body(3)),
        mustRefuse: 'a Transfer-Encoding that does not end in chunked',
      });
    case 'cl-te':
      return plain({
        method,
        headers: [
          ['Content-Length', String(f.n + 5)],
          ['Transfer-Encoding', 'chunked'],
        ],
        body: chunked(body(f.n)),
        mustRefuse: 'both Content-Length and Transfer-Encoding',
      });
    case 'te-dup':
      return plain({
        method,
        headers: [
          ['Transfer-Encoding', 'chunked'],
          ['Transfer-Encoding', 'chunked'],
        ],
        // Decoding chunked once is a defensible reading; either answer is fine.
        body: chunked(body(f.n)),
      });
  }
}

const size = fc.integer({ min: 0, max: 300 });
const framingRequests: fc.Arbitrary<ViewerRequest> = fc
  .tuple(
    fc.constantFrom('POST', 'PUT', 'GET', 'DELETE'),
    fc.oneof(
      size.map((n): Framing => ({ kind: 'cl', n })),
      size.map((n): Framing => ({ kind: 'cl-dup-same', n })),
      fc
        .tuple(size, size)
        .filter(([a, b]) => a !== b)
        .map(([a, b]): Framing => ({ kind: 'cl-conflict', a, b })),
      size.map((n): Framing => ({ kind: 'cl-list', n })),
      fc
        .constantFrom('-1', 'abc', '1e3', '0x10', ' 4 4', '+4', '99999999999999999999999', '')
        .map((value): Framing => ({ kind: 'cl-bad', value })),
      size.map((n): Framing => ({ kind: 'chunked', n })),
      fc
        .constantFrom('gzip', 'chunked, gzip', 'identity', 'chunkedx', 'xchunked', '')
        .map((value): Framing => ({ kind: 'te-bad', value })),
      size.map((n): Framing => ({ kind: 'cl-te', n })),
      size.map((n): Framing => ({ kind: 'te-dup', n })),
    ),
  )
  .map(([method, f]) => framed(method, f));

/** Duplicate, missing and odd Host headers. */
const hostRequests: fc.Arbitrary<ViewerRequest> = fc.oneof(
  fc.constant(plain({ hosts: ['fuzz', 'fuzz'], mustRefuse: 'two Host headers' })),
  fc.constant(plain({ hosts: ['fuzz', 'control'], mustRefuse: 'two Host headers' })),
  fc.constant(plain({ hosts: ['control', 'fuzz'], mustRefuse: 'two Host headers' })),
  fc.constant(plain({ hosts: [] })),
  fc
    .constantFrom(
      '',
      ' ',
      'FUZZ',
      'fuzz.',
      'fuzz:0',
      'fuzz:99999',
      '[::1]',
      '127.0.0.1',
      'a.b.fuzz',
      'fuzz@evil',
    )
    .map((odd) => plain({ hosts: [`odd:${odd}`] })),
  mixed(0, 40).map((odd) => plain({ hosts: [`raw:${odd}`] })),
);

/** Long runs of one character print as `x×N`, so a counterexample with 2000 headers stays readable. */
function squeeze(text: string): string {
  return text.replace(/(.)\1{15,}/gs, (run, c: string) => `${c}×${run.length}`);
}

/** Prints requests compactly in fast-check's counterexamples. */
function compact(arb: fc.Arbitrary<ViewerRequest>): fc.Arbitrary<ViewerRequest> {
  return arb.map((r) =>
    Object.assign(r, {
      [fc.toStringMethod]: (): string => {
        const headers = r.headers.map(([n, v]) => `${n}: ${v}`);
        const shown =
          headers.length > 8
            ? [...headers.slice(0, 4), `…${headers.length - 6} more…`, ...headers.slice(-2)]
            : headers;
        return squeeze(
          JSON.stringify({
            method: r.method,
            target: r.target,
            hosts: r.hosts,
            headers: shown,
            body: r.body,
            mustRefuse: r.mustRefuse,
          }),
        );
      },
    }),
  );
}

/** Resolves a symbolic Host (fuzz/control/odd:..) into the header value sent. */
function hostValue(symbol: string): string {
  if (symbol === 'fuzz') return rig.edge.host(rig.fuzzName);
  if (symbol === 'control') return rig.edge.host(rig.controlName);
  if (symbol.startsWith('raw:')) return symbol.slice(4);
  const odd = symbol.slice(4);
  const fuzzHost = rig.edge.host(rig.fuzzName);
  return odd
    .replace('FUZZ', fuzzHost.toUpperCase())
    .replace(/^fuzz\.$/, `${rig.fuzzName}.localhost.`)
    .replace(/^fuzz:/, `${rig.fuzzName}.localhost:`)
    .replace(/(^|\.)fuzz$/, (m) => (m.startsWith('.') ? `.${fuzzHost}` : fuzzHost))
    .replace('fuzz@', `${fuzzHost}@`);
}

/** Sends one request and asserts everything the property promises about it. */
async function check(r: ViewerRequest): Promise<void> {
  await settled(rig);
  const lossesBefore = sessionLosses(rig).count;
  const bytes = serialize(r, (i) => hostValue(r.hosts[i]!));
  const tag = String(++requestSerial);
  const [result, control] = await Promise.all([
    exchange(rig.edge.port, [{ bytes, head: r.method === 'HEAD' }]),
    controlRequest(rig, tag),
  ]);
  const problems: string[] = [];
  const res = result.responses[0];
  if (result.garbled !== null)
    problems.push(`the edge answered bytes that are not HTTP: ${show(result.garbled)}`);
  else if (!res) {
    problems.push(
      result.timedOut
        ? 'no answer within 6 s'
        : `the connection closed without a response (got ${show(result.leftover)})`,
    );
  } else {
    const fromOrigin = header(res.headers, 'x-from-origin').length > 0;
    if (r.mustRefuse !== null) {
      // 501 is what HTTP suggests for a transfer coding the server does not implement.
      if (fromOrigin || ((res.status < 400 || res.status > 499) && res.status !== 501)) {
        problems.push(
          `${r.mustRefuse} must be refused with a 4xx or 501, got ${res.status}${fromOrigin ? ' from the origin' : ''}`,
        );
      } else {
        const p = burrowErrorProblem(res, r.method === 'HEAD');
        if (p) problems.push(p);
      }
    } else if (!fromOrigin && res.status >= 400) {
      const p = burrowErrorProblem(res, r.method === 'HEAD');
      if (p) problems.push(p);
    } else if (res.status < 200 || res.status > 599) {
      problems.push(`final status ${res.status}`);
    }
  }
  if (control !== null) problems.push(control);
  const losses = sessionLosses(rig);
  if (losses.count !== lossesBefore) problems.push(`the agent session closed (${losses.last})`);
  if (rig.agent.child.exitCode !== null) problems.push('the agent process exited');
  expect(problems, `request ${squeeze(show(bytes, 2000))}`).toEqual([]);
}

describe('viewer request heads (property, against running edge and agent)', () => {
  it('hundreds to thousands of tiny headers fail alone', { timeout: propertyTestTimeoutMs() }, async () => {
    await fc.assert(
      fc.asyncProperty(compact(headerCountRequests), check),
      fuzzParameters('viewer header count'),
    );
  });

  it(
    'request heads up to and past limits.maxHeaderBytes fail alone',
    { timeout: propertyTestTimeoutMs() },
    async () => {
      await fc.assert(
        fc.asyncProperty(compact(headerSizeRequests), check),
        fuzzParameters('viewer header size'),
      );
    },
  );

  it(
    'request targets around limits.maxUrlBytes fail alone',
    { timeout: propertyTestTimeoutMs() },
    async () => {
      await fc.assert(fc.asyncProperty(compact(urlRequests), check), fuzzParameters('viewer url length'));
    },
  );

  it(
    'random bytes in method, target, header names and values fail alone',
    { timeout: propertyTestTimeoutMs() },
    async () => {
      await fc.assert(fc.asyncProperty(compact(byteRequests), check), fuzzParameters('viewer bytes'));
    },
  );

  it(
    'Content-Length / Transfer-Encoding combinations fail alone; ambiguous framing is refused',
    { timeout: propertyTestTimeoutMs() },
    async () => {
      await fc.assert(fc.asyncProperty(compact(framingRequests), check), fuzzParameters('viewer framing'));
    },
  );

  it(
    'duplicate, missing and odd Host headers fail alone; two Hosts are refused',
    { timeout: propertyTestTimeoutMs() },
    async () => {
      await fc.assert(fc.asyncProperty(compact(hostRequests), check), fuzzParameters('viewer host'));
    },
  );
});
