/**
 * Control messages: their shapes, JSON encoding, and one validator per message type.
 * Anything a peer sends is untrusted: validators throw TUN_ERR_BAD_MESSAGE naming the field.
 * DATA, WINDOW, PING and PONG are binary and never pass through here.
 */

import { ERROR_CATALOG, TunnelError, type ErrorCode } from './errors.js';
import { headLimitProblem, MAX_STATUS_TEXT } from './head-limits.js';
import { STATUS_RANGE } from './http-rules.js';

export interface Hello {
  /** Protocol versions the agent speaks, any order. */
  versions: number[];
  /** Agent name and version, e.g. "burrow/0.1.0"; informational. */
  agent: string;
  /** API key, or null for an anonymous session (temporary tunnels only). */
  token: string | null;
  /** Initial receive window per stream the agent grants the edge, in bytes. */
  window: number;
  /** Largest frame payload the agent accepts, in bytes. */
  maxFramePayload: number;
}

export interface HelloAck {
  version: number;
  sessionId: string;
  /** Initial receive window per stream the edge grants the agent, in bytes. */
  window: number;
  maxFramePayload: number;
  heartbeatMs: number;
  maxStreams: number;
  maxTunnels: number;
}

export interface Bind {
  /** Correlates the BIND_ACK; chosen by the agent, unique per session. */
  id: number;
  proto: 'http';
  /** Wanted name, or null for a random temporary name. */
  name: string | null;
  /** Token from an earlier BIND_ACK: proves the name was ours when reconnecting. */
  resumeToken: string | null;
  /**
   * Access policy the edge enforces for this tunnel (basic auth, token, IP rules, rate
   * limit, header edits), as JSON; the edge validates it and refuses the BIND naming the
   * bad field. Null: no policy.
   */
  policy: Record<string, unknown> | null;
  /**
   * Take the name over from another live session of the same user (`burrow --force`), for a
   * stale session the edge still thinks is alive. Optional on the wire; default false.
   */
  force: boolean;
}

export type BindAck =
  | { id: number; ok: true; name: string; url: string; resumeToken: string }
  | { id: number; ok: false; code: ErrorCode; message: string };

export interface Unbind {
  name: string;
}

/** The viewer's request head, carried by OPEN. Headers keep order, case and repeats. */
export interface RequestHead {
  tunnel: string;
  method: string;
  /** Path and query exactly as the viewer sent them (percent-encoding untouched). */
  path: string;
  /** Flat [name, value, name, value, ...] as received, hop-by-hop headers removed. */
  headers: string[];
  remoteAddress: string;
  requestId: string;
}

/** The origin's response head, carried by HEAD. */
export interface ResponseHead {
  status: number;
  statusText: string;
  headers: string[];
  /**
   * The origin's time from the agent's dispatch to its response head, in ms (finite, ≥ 0),
   * for the edge's timing breakdown; absent from agents that do not measure it.
   */
  originMs?: number;
}

export interface ErrorMessage {
  /** Wire error code (see ERROR_CATALOG). */
  code: number;
  message: string;
}

export type GoAway = ErrorMessage;
export type Reset = ErrorMessage;

export function encodeJson(message: object): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function bad(what: string, detail: string): TunnelError {
  return new TunnelError('TUN_ERR_BAD_MESSAGE', `${what}: ${detail}`);
}

type Fields = Record<string, unknown>;

function parseObject(payload: Buffer, what: string): Fields {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw bad(what, 'payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(what, 'payload is not an object');
  return value as Fields;
}

function str(o: Fields, key: string, what: string, max = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max)
    throw bad(what, `${key} must be a string of at most ${max} chars`);
  return v;
}

function optStr(o: Fields, key: string, what: string, max = 4096): string | null {
  return o[key] === undefined || o[key] === null ? null : str(o, key, what, max);
}

function optObject(o: Fields, key: string, what: string): Record<string, unknown> | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(what, `${key} must be an object`);
  return v as Record<string, unknown>;
}

function optBool(o: Fields, key: string, what: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(what, `${key} must be true or false`);
  return v;
}

function int(o: Fields, key: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(what, `${key} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A head's header list; over HEAD_LIMITS throws `tooLarge`, so the receiver can say which limit. */
function headerList(o: Fields, what: string, tooLarge: ErrorCode): string[] {
  const v = o.headers;
  if (!Array.isArray(v) || v.length % 2 !== 0) {
    throw bad(what, 'headers must be a flat array of name/value pairs');
  }
  for (const item of v)
    if (typeof item !== 'string') throw bad(what, 'header names and values must be strings');
  const problem = headLimitProblem(v as string[]);
  if (problem !== null) throw new TunnelError(tooLarge, `${what}: ${problem}`);
  return v as string[];
}

export function decodeHello(payload: Buffer): Hello {
  const o = parseObject(payload, 'HELLO');
  const versions = o.versions;
  if (!Array.isArray(versions) || versions.length === 0 || versions.length > 16) {
    throw bad('HELLO', 'versions must be a non-empty array');
  }
  for (const v of versions) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 255) throw bad('HELLO', 'bad version');
  }
  return {
    versions: versions as number[],
    agent: str(o, 'agent', 'HELLO', 200),
    token: optStr(o, 'token', 'HELLO', 512),
    window: int(o, 'window', 'HELLO', 1024, 2 ** 31 - 1),
    maxFramePayload: int(o, 'maxFramePayload', 'HELLO', 1024, 16 * 1024 * 1024),
  };
}

export function decodeHelloAck(payload: Buffer): HelloAck {
  const o = parseObject(payload, 'HELLO_ACK');
  return {
    version: int(o, 'version', 'HELLO_ACK', 1, 255),
    sessionId: str(o, 'sessionId', 'HELLO_ACK', 200),
    window: int(o, 'window', 'HELLO_ACK', 1024, 2 ** 31 - 1),
    maxFramePayload: int(o, 'maxFramePayload', 'HELLO_ACK', 1024, 16 * 1024 * 1024),
    heartbeatMs: int(o, 'heartbeatMs', 'HELLO_ACK', 1),
    maxStreams: int(o, 'maxStreams', 'HELLO_ACK', 1),
    maxTunnels: int(o, 'maxTunnels', 'HELLO_ACK', 1),
  };
}

export function decodeBind(payload: Buffer): Bind {
  const o = parseObject(payload, 'BIND');
  if (o.proto !== 'http') throw bad('BIND', 'proto must be "http"');
  return {
    id: int(o, 'id', 'BIND', 0, 2 ** 31),
    proto: 'http',
    name: optStr(o, 'name', 'BIND', 253),
    resumeToken: optStr(o, 'resumeToken', 'BIND', 256),
    policy: optObject(o, 'policy', 'BIND'),
    force: optBool(o, 'force', 'BIND'),
  };
}

export function decodeBindAck(payload: Buffer): BindAck {
  const o = parseObject(payload, 'BIND_ACK');
  const id = int(o, 'id', 'BIND_ACK', 0, 2 ** 31);
  if (o.ok === true) {
    return {
      id,
      ok: true,
      name: str(o, 'name', 'BIND_ACK', 253),
      url: str(o, 'url', 'BIND_ACK', 2048),
      resumeToken: str(o, 'resumeToken', 'BIND_ACK', 256),
    };
  }
  const code = str(o, 'code', 'BIND_ACK', 64);
  // A code this version does not know (a newer edge) still arrives as an error, not a crash.
  const known = Object.hasOwn(ERROR_CATALOG, code) ? (code as ErrorCode) : 'TUN_ERR_PROTOCOL';
  return { id, ok: false, code: known, message: str(o, 'message', 'BIND_ACK') };
}

export function decodeUnbind(payload: Buffer): Unbind {
  return { name: str(parseObject(payload, 'UNBIND'), 'name', 'UNBIND', 253) };
}

export function decodeRequestHead(payload: Buffer): RequestHead {
  const o = parseObject(payload, 'OPEN');
  return {
    tunnel: str(o, 'tunnel', 'OPEN', 253),
    method: str(o, 'method', 'OPEN', 64),
    path: str(o, 'path', 'OPEN', 1024 * 1024),
    headers: headerList(o, 'OPEN', 'TUN_ERR_HEADERS_TOO_LARGE'),
    remoteAddress: str(o, 'remoteAddress', 'OPEN', 64),
    requestId: str(o, 'requestId', 'OPEN', 200),
  };
}

export function decodeResponseHead(payload: Buffer): ResponseHead {
  const o = parseObject(payload, 'HEAD');
  const head: ResponseHead = {
    status: int(o, 'status', 'HEAD', STATUS_RANGE.min, STATUS_RANGE.max),
    statusText: optStr(o, 'statusText', 'HEAD', MAX_STATUS_TEXT) ?? '',
    headers: headerList(o, 'HEAD', 'TUN_ERR_HEAD_TOO_LARGE'),
  };
  const originMs = o.originMs;
  if (originMs !== undefined && originMs !== null) {
    if (typeof originMs !== 'number' || !Number.isFinite(originMs) || originMs < 0)
      throw bad('HEAD', 'originMs must be a finite number of milliseconds, at least 0');
    head.originMs = originMs;
  }
  return head;
}

export function decodeErrorMessage(payload: Buffer, what = 'ERROR'): ErrorMessage {
  const o = parseObject(payload, what);
  return { code: int(o, 'code', what, 0, 0xffff), message: str(o, 'message', what, 4096) };
}

/** The error message for a TunnelError, as sent in RESET, GOAWAY and ERROR. */
export function errorMessageOf(err: TunnelError): ErrorMessage {
  return { code: err.wire, message: err.message };
}
