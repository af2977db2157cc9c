/**
 * Shared rig for the property suites: one real edge, one real agent serving two tunnels
 * (the one under fuzz and a control tunnel), bounded raw-socket exchanges, and the checks
 * every property ends with: the agent's session survived and the control tunnel answered a
 * concurrent request untouched. Run counts and the seed come from the environment so CI is
 * reproducible and `npm run fuzz` can go long.
 */

import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import type fc from 'fast-check';
import { request } from 'undici';
import { AGENT_CLI, Proc, startEdge, startOrigin, tempDir, type Edge } from './harness.js';

/** Runs per property: small by default so a file stays well under 40 s on two busy cores. */
export const FUZZ_RUNS = envInt('BURROW_FUZZ_RUNS', 40);
/** Fixed by default so a failure in CI replays; printed with every property. */
export const FUZZ_SEED = envInt('BURROW_FUZZ_SEED', 0x5eed_b0b);

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

/**
 * fast-check parameters for one property: the seed, the run count, and a wall-clock cap
 * (shrinking a failure against real processes can otherwise run for minutes). Hitting the
 * cap fails the property: a run cut short would otherwise pass having checked far fewer
 * cases than asked.
 */
export function fuzzParameters<T>(
  label: string,
  runs = FUZZ_RUNS,
  timeLimitMs = propertyTimeLimitMs(runs),
): fc.Parameters<T> {
  console.log(`[fuzz] ${label}: seed=${FUZZ_SEED} runs=${runs} (BURROW_FUZZ_SEED / BURROW_FUZZ_RUNS)`);
  return {
    seed: FUZZ_SEED,
    numRuns: runs,
    // The plugin form is generic over the property's type; this option is not, and does the same.
    interruptAfterTimeLimit: timeLimitMs,
    markInterruptAsFailure: true,
  };
}

/** Time one property may take, runs and shrinking included. */
export function propertyTimeLimitMs(runs = FUZZ_RUNS): number {
  return Math.max(60_000, runs * 1_500);
}

/** Vitest timeout for a property test: its fast-check cap plus room to report. */
export function propertyTestTimeoutMs(runs = FUZZ_RUNS): number {
  return propertyTimeLimitMs(runs) + 30_000;
}

export interface Rig {
  edge: Edge;
  agent: Proc;
  /** Tunnel whose origin the property controls. */
  fuzzName: string;
  /** Tunnel on the same agent session whose origin always answers `controlBody(path)`. */
  controlName: string;
}

export function controlBody(path: string): string {
  return `control answered ${path}`;
}

function controlOrigin(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = controlBody(req.url ?? '');
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Starts the edge (with `edgeEnv`) and ONE agent session (`burrow start`) serving two
 * tunnels: `fuzz` to `fuzzOriginPort` and `control` to a well-behaved origin.
 */
export async function startRig(options: {
  fuzzOriginPort: number;
  edgeEnv?: Record<string, string>;
  token?: string;
  edge?: Edge;
}): Promise<Rig> {
  const control = await startOrigin(controlOrigin);
  const edge = options.edge ?? (await startEdge({ env: options.edgeEnv }));
  const file = join(tempDir(), 'burrow.yml');
  writeFileSync(
    file,
    [
      `server: ${edge.url}`,
      ...(options.token ? [`token: ${options.token}`] : []),
      'tunnels:',
      '  fuzz:',
      `    addr: 127.0.0.1:${options.fuzzOriginPort}`,
      '  control:',
      `    addr: 127.0.0.1:${control.port}`,
      '',
    ].join('\n'),
  );
  const agent = new Proc([AGENT_CLI, 'start', '--config', file, '--log', 'json']);
  const tunnels = await agent.waitFor(
    () => {
      const lines = agent.json.filter((l) => l.event === 'tunnel');
      return lines.length >= 2 ? lines : undefined;
    },
    15_000,
    'two tunnels',
  );
  const nameOf = (id: string): string => {
    const line = tunnels.find((l) => l.tunnel === id);
    if (!line) throw new Error(`agent printed no tunnel ${id}`);
    return String(line.name);
  };
  return { edge, agent, fuzzName: nameOf('fuzz'), controlName: nameOf('control') };
}

/** Session closes the agent has reported so far (each reconnect starts with one). */
export function sessionLosses(rig: Rig): { count: number; last: string } {
  const lines = rig.agent.json.filter((l) => l.event === 'reconnecting');
  const last = lines.at(-1);
  return { count: lines.length, last: last ? `${String(last.code)}: ${String(last.reason)}` : '' };
}

/**
 * Waits (bounded) until the agent is connected again after an earlier run broke its
 * session, so one failure does not make every later run fail too.
 */
export async function settled(rig: Rig): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const events = rig.agent.json.filter((l) => l.event === 'connected' || l.event === 'reconnecting');
    if (events.at(-1)?.event === 'connected') return;
    if (Date.now() > deadline) throw new Error('the agent did not reconnect within 15 s');
    await sleep(50);
  }
}

/** A normal GET on the control tunnel: must be 200 with exactly the control origin's body. */
export async function controlRequest(rig: Rig, tag: string): Promise<string | null> {
  const path = `/control?tag=${tag}`;
  try {
    const res = await request(`${rig.edge.url}${path}`, {
      headers: { host: rig.edge.host(rig.controlName) },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const body = await res.body.text();
    if (res.statusCode !== 200 || body !== controlBody(path)) {
      return `control tunnel answered ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`;
    }
    return null;
  } catch (err) {
    return `control request failed: ${(err as Error).message}`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One HTTP response as read off a raw socket. */
export interface RawResponse {
  status: number;
  reason: string;
  /** Flat [name, value, ...] as sent, names as sent. */
  headers: string[];
  body: Buffer;
  /** The body ended as its framing said (false: the connection was cut inside it). */
  complete: boolean;
}

export interface Exchange {
  /** Final (non-1xx) responses read, in order. */
  responses: RawResponse[];
  /** Bytes after the last complete response that do not parse as one. */
  leftover: Buffer;
  /** The peer closed (or reset) the connection. */
  closed: boolean;
  /** Neither a close nor the wanted responses came within the time limit. */
  timedOut: boolean;
  /** Bytes that did not parse as a response head. */
  garbled: string | null;
}

export function header(headers: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === name) out.push(headers[i + 1]!);
  }
  return out;
}

/**
 * Parses as many responses as `buf` holds. `bodyless[i]` says the i-th answers a HEAD.
 * Returns where parsing stopped; `garbled` when the bytes are not HTTP at all.
 */
function parseResponses(
  buf: Buffer,
  closed: boolean,
  bodyless: readonly boolean[],
): { responses: RawResponse[]; rest: Buffer; garbled: string | null } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end === -1) return { responses, rest: buf.subarray(at), garbled: null };
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!status) return { responses, rest: buf.subarray(at), garbled: lines[0]!.slice(0, 200) };
    const headers: string[] = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0)
        return { responses, rest: buf.subarray(at), garbled: `bad header line ${line.slice(0, 200)}` };
      headers.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const code = Number(status[1]);
    let next = end + 4;
    if (code >= 100 && code < 200) {
      at = next; // interim response: the final one follows
      continue;
    }
    const noBody = bodyless[responses.length] === true || code === 204 || code === 304;
    const length = header(headers, 'content-length');
    const chunked = header(headers, 'transfer-encoding').some((v) => /chunked/i.test(v));
    let body: Buffer;
    let complete: boolean;
    if (noBody) {
      body = Buffer.alloc(0);
      complete = true;
    } else if (chunked) {
      const decoded = decodeChunked(buf, next);
      if (decoded === null) {
        if (!closed) return { responses, rest: buf.subarray(at), garbled: null };
        responses.push({
          status: code,
          reason: status[2] ?? '',
          headers,
          body: buf.subarray(next),
          complete: false,
        });
        return { responses, rest: Buffer.alloc(0), garbled: null };
      }
      if ('error' in decoded) return { responses, rest: buf.subarray(at), garbled: decoded.error };
      body = decoded.body;
      next = decoded.end;
      complete = true;
    } else if (length.length > 0) {
      if (length.length > 1 || !/^\d+$/.test(length[0]!)) {
        return { responses, rest: buf.subarray(at), garbled: `Content-Length ${JSON.stringify(length)}` };
      }
      const n = Number(length[0]);
      if (buf.length - next < n) {
        if (!closed) return { responses, rest: buf.subarray(at), garbled: null };
        responses.push({
          status: code,
          reason: status[2] ?? '',
          headers,
          body: buf.subarray(next),
          complete: false,
        });
        return { responses, rest: Buffer.alloc(0), garbled: null };
      }
      body = buf.subarray(next, next + n);
      next += n;
      complete = true;
    } else {
      // Delimited by close.
      if (!closed) return { responses, rest: buf.subarray(at), garbled: null };
      body = buf.subarray(next);
      next = buf.length;
      complete = true;
    }
    responses.push({ status: code, reason: status[2] ?? '', headers, body, complete });
    at = next;
  }
}

function decodeChunked(buf: Buffer, start: number): { body: Buffer; end: number } | { error: string } | null {
  const parts: Buffer[] = [];
  let at = start;
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return null;
    const sizeText = buf.subarray(at, eol).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return { error: `bad chunk size ${JSON.stringify(sizeText)}` };
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      // Trailers end with an empty line.
      const end = buf.indexOf('\r\n\r\n', eol);
      if (end === -1) return null;
      return { body: Buffer.concat(parts), end: end + 4 };
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return { error: 'too many chunks' };
}

/**
 * Sends `requests` one after another on one TCP connection to the edge (each only after
 * the previous response arrived), and reads the responses, all within `timeoutMs`.
 */
export function exchange(
  port: number,
  requests: readonly { bytes: Buffer; head?: boolean }[],
  timeoutMs = 6_000,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let sent = 0;
    let closed = false;
    let done = false;
    const bodyless = requests.map((r) => r.head === true);
    const finish = (timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponses(buf, closed, bodyless);
      resolve({
        responses: parsed.responses,
        leftover: parsed.rest,
        closed,
        timedOut,
        garbled: parsed.garbled,
      });
    };
    const step = (): void => {
      const parsed = parseResponses(buf, closed, bodyless);
      if (parsed.garbled !== null || closed) return finish(false);
      if (parsed.responses.length >= requests.length) return finish(false);
      if (parsed.responses.length === sent && sent < requests.length) {
        socket.write(requests[sent]!.bytes);
        sent++;
      }
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', step);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      step();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      step();
    });
  });
}

/**
 * An edge-made error must carry a stable code a script can read, and a readable body
 * unless it answers HEAD (which HTTP says has none).
 */
export function burrowErrorProblem(res: RawResponse, headRequest = false): string | null {
  const codes = header(res.headers, 'x-burrow-error');
  if (res.status < 400 || res.status > 599) return `status ${res.status} is not an error status`;
  if (codes.length !== 1 || !/^[A-Z][A-Z0-9_]+$/.test(codes[0]!)) {
    return `${res.status} without one X-Burrow-Error code (got ${JSON.stringify(codes)}); body ${JSON.stringify(res.body.toString('latin1').slice(0, 200))}`;
  }
  if (res.body.length === 0 && !headRequest) return `${res.status} ${codes[0]!} with an empty body`;
  return null;
}

/** Short printable form of bytes for failure messages. */
export function show(bytes: Buffer | string, max = 300): string {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} bytes)` : text);
}
