import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, TunnelError, toTunnelError, type ErrorCode } from './errors.js';
import { errorMessageOf } from './messages.js';

const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];
const WIRE_CODES = CODES.filter((code) => ERROR_CATALOG[code].wire !== 0);

function readDoc(name: string): string {
  return readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
}

interface DocRow {
  wire: number;
  status: number;
  retryable: boolean;
  meaning: string;
  action: string;
}

/** The rows of docs/errors.md's tables, keyed by code: | `CODE` | wire | HTTP | retryable | meaning | action | */
function documentedErrors(): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  for (const line of readDoc('errors.md').split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|(.*)\|\s*$/.exec(line);
    if (!match) continue;
    const cells = match[2]!.split('|').map((c) => c.trim());
    rows.set(match[1]!, {
      wire: Number(cells[0]),
      status: Number(cells[1]),
      retryable: cells[2] === 'yes',
      meaning: cells[3] ?? '',
      action: cells[4] ?? '',
    });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedErrors();

  it.each(CODES)('documents %s', (code) => {
    expect(documented.has(code), `${code} has no row in docs/errors.md`).toBe(true);
  });

  it.each(CODES)('gives %s the wire number, HTTP status and retryability of the catalog', (code) => {
    const row = documented.get(code)!;
    const spec = ERROR_CATALOG[code];
    expect({ wire: row.wire, status: row.status, retryable: row.retryable }).toEqual({
      wire: spec.wire,
      status: spec.status,
      retryable: spec.retryable,
    });
    expect(row.meaning.length).toBeGreaterThan(10);
    expect(row.action.length).toBeGreaterThan(5);
  });

  it('documents no code the catalog does not have', () => {
    expect([...documented.keys()].filter((code) => !(code in ERROR_CATALOG))).toEqual([]);
  });
});

describe('docs/protocol.md error table', () => {
  it('lists every wire code with its number', () => {
    const spec = readDoc('protocol.md');
    for (const code of WIRE_CODES) {
      expect(spec, code).toMatch(
        new RegExp(`\\|\\s*${ERROR_CATALOG[code].wire}\\s*\\|\\s*\`${code}\`\\s*\\|`),
      );
    }
  });
});

describe('ERROR_CATALOG', () => {
  it('gives every wire code a unique number', () => {
    const numbers = WIRE_CODES.map((code) => ERROR_CATALOG[code].wire);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('uses wire numbers that fit an ErrorMessage code (1..65535)', () => {
    for (const code of WIRE_CODES) {
      expect(ERROR_CATALOG[code].wire).toBeGreaterThanOrEqual(1);
      expect(ERROR_CATALOG[code].wire).toBeLessThanOrEqual(0xffff);
    }
  });

  it('pins the session-level wire codes', () => {
    expect({
      TUN_ERR_PROTOCOL: ERROR_CATALOG.TUN_ERR_PROTOCOL.wire,
      TUN_ERR_FRAME_TOO_LARGE: ERROR_CATALOG.TUN_ERR_FRAME_TOO_LARGE.wire,
      TUN_ERR_UNKNOWN_FRAME_TYPE: ERROR_CATALOG.TUN_ERR_UNKNOWN_FRAME_TYPE.wire,
      TUN_ERR_BAD_VERSION: ERROR_CATALOG.TUN_ERR_BAD_VERSION.wire,
      TUN_ERR_WINDOW_EXCEEDED: ERROR_CATALOG.TUN_ERR_WINDOW_EXCEEDED.wire,
      TUN_ERR_STREAM_STATE: ERROR_CATALOG.TUN_ERR_STREAM_STATE.wire,
      TUN_ERR_BAD_MESSAGE: ERROR_CATALOG.TUN_ERR_BAD_MESSAGE.wire,
      TUN_ERR_PEER_TIMEOUT: ERROR_CATALOG.TUN_ERR_PEER_TIMEOUT.wire,
      TUN_ERR_GOING_AWAY: ERROR_CATALOG.TUN_ERR_GOING_AWAY.wire,
      TUN_ERR_SESSION_CLOSED: ERROR_CATALOG.TUN_ERR_SESSION_CLOSED.wire,
    }).toEqual({
      TUN_ERR_PROTOCOL: 1,
      TUN_ERR_FRAME_TOO_LARGE: 2,
      TUN_ERR_UNKNOWN_FRAME_TYPE: 3,
      TUN_ERR_BAD_VERSION: 4,
      TUN_ERR_WINDOW_EXCEEDED: 5,
      TUN_ERR_STREAM_STATE: 6,
      TUN_ERR_BAD_MESSAGE: 7,
      TUN_ERR_PEER_TIMEOUT: 10,
      TUN_ERR_GOING_AWAY: 11,
      TUN_ERR_SESSION_CLOSED: 25,
    });
  });

  it('gives every code an HTTP error status and a summary (the token redirect is the one 3xx)', () => {
    for (const code of CODES) {
      if (code === 'POLICY_TOKEN_REDIRECT') continue;
      expect(ERROR_CATALOG[code].status, code).toBeGreaterThanOrEqual(400);
      expect(ERROR_CATALOG[code].status, code).toBeLessThan(600);
      expect(ERROR_CATALOG[code].summary.length, code).toBeGreaterThan(0);
    }
    expect(ERROR_CATALOG.POLICY_TOKEN_REDIRECT.status).toBe(302);
  });

  it('keeps the access-answer codes viewers already see in X-Burrow-Error, off the wire', () => {
    const answers = CODES.filter((code) => !code.startsWith('TUN_ERR_'));
    expect(Object.fromEntries(answers.map((code) => [code, ERROR_CATALOG[code].status]))).toEqual({
      POLICY_IP_DENIED: 403,
      POLICY_RATE_LIMITED: 429,
      POLICY_AUTH_REQUIRED: 401,
      POLICY_AUTH_INVALID: 401,
      POLICY_AUTH_LOCKED: 429,
      POLICY_TOKEN_REDIRECT: 302,
      EDGE_RATE_LIMITED: 429,
      EDGE_TOO_MANY_CONNECTIONS: 429,
    });
    for (const code of answers) expect(ERROR_CATALOG[code].wire, code).toBe(0);
  });
});

describe('TunnelError', () => {
  it.each(WIRE_CODES)('round-trips %s through its wire number', (code) => {
    const original = new TunnelError(code, 'details');
    const back = TunnelError.fromWire(original.wire, original.message);
    expect(back).toBeInstanceOf(TunnelError);
    expect({ code: back.code, wire: back.wire, status: back.status, retryable: back.retryable }).toEqual({
      code,
      wire: ERROR_CATALOG[code].wire,
      status: ERROR_CATALOG[code].status,
      retryable: ERROR_CATALOG[code].retryable,
    });
    expect(back.message).toBe('details');
  });

  it('round-trips through the ErrorMessage sent in RESET, GOAWAY and ERROR', () => {
    for (const code of WIRE_CODES) {
      const msg = errorMessageOf(new TunnelError(code, `why ${code}`));
      expect(msg).toEqual({ code: ERROR_CATALOG[code].wire, message: `why ${code}` });
      expect(TunnelError.fromWire(msg.code, msg.message).code).toBe(code);
    }
  });

  it('reads 0 and unknown wire numbers as TUN_ERR_PROTOCOL', () => {
    for (const wire of [0, 999, 0xffff]) expect(TunnelError.fromWire(wire).code).toBe('TUN_ERR_PROTOCOL');
  });

  it('defaults its message to the summary and carries the catalog classification', () => {
    const err = new TunnelError('TUN_ERR_NAME_IN_USE');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('TunnelError');
    expect(err.message).toBe(ERROR_CATALOG.TUN_ERR_NAME_IN_USE.summary);
    expect([err.status, err.retryable, err.wire]).toEqual([409, true, 15]);
  });

  it('keeps the cause', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new TunnelError('TUN_ERR_ORIGIN_REFUSED', 'no', { cause }).cause).toBe(cause);
  });
});

describe('toTunnelError', () => {
  it('passes a TunnelError through unchanged', () => {
    const err = new TunnelError('TUN_ERR_GOING_AWAY');
    expect(toTunnelError(err)).toBe(err);
  });

  it('wraps any other error with the fallback code, keeping message and cause', () => {
    const cause = new RangeError('bad offset');
    const err = toTunnelError(cause, 'TUN_ERR_PROTOCOL');
    expect([err.code, err.message, err.cause]).toEqual(['TUN_ERR_PROTOCOL', 'bad offset', cause]);
    expect(toTunnelError('text').code).toBe('TUN_ERR_INTERNAL');
    expect(toTunnelError('text').message).toBe('text');
  });
});
