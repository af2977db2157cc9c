/**
 * TSIG (RFC 8945): signs a request with an HMAC over the message and the TSIG variables, and
 * checks the server's signed answer, whose MAC also covers the request's MAC (§4.3.3), so an
 * answer cannot be forged or replayed from another exchange by anyone without the secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';
import { RR_CLASS, RR_TYPE, canonicalName, encodeName, rcodeName, type ParsedMessage } from './dns-wire.js';

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

const HASH: Readonly<Record<TsigAlgorithm, string>> = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
  'hmac-sha1': 'sha1',
};

/** Seconds a signature's time may differ from the verifier's clock (RFC 8945 recommends 300). */
export const TSIG_FUDGE_SECONDS = 300;

export interface TsigKey {
  /** The key's name as the server knows it (`burrow-key` or `burrow-key.`). */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  /** Base64, as in a BIND `key` statement or `tsig-keygen` output. Never logged. */
  readonly secret: string;
}

/** The secret's bytes; throws a config error (without echoing the secret) when it is not base64. */
export function secretBytes(key: TsigKey): Buffer {
  const text = key.secret.trim();
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new TunnelError(
      'TUN_ERR_CONFIG_INVALID',
      `the TSIG secret of key "${key.name}" must be base64 (as tsig-keygen prints it)`,
    );
  }
  return Buffer.from(text, 'base64');
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u48(value: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(value, 0, 6);
  return b;
}

interface TsigFields {
  readonly timeSigned: number;
  readonly fudge: number;
  readonly error: number;
  readonly other: Buffer;
}

/** The TSIG variables (§4.3.3) that follow the message in the MAC's input. */
function variables(key: TsigKey, fields: TsigFields): Buffer {
  return Buffer.concat([
    encodeName(canonicalName(key.name)),
    u16(RR_CLASS.ANY),
    Buffer.alloc(4), // TTL 0
    encodeName(canonicalName(key.algorithm)),
    u48(fields.timeSigned),
    u16(fields.fudge),
    u16(fields.error),
    u16(fields.other.length),
    fields.other,
  ]);
}

function hmac(key: TsigKey, secret: Buffer, parts: readonly Buffer[]): Buffer {
  const mac = createHmac(HASH[key.algorithm], secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * Appends a TSIG record to `message` (whose additional count must not include it yet) and
 * returns the signed message and its MAC, which the answer's verification needs.
 */
export function signMessage(message: Buffer, key: TsigKey, nowMs: number): { signed: Buffer; mac: Buffer } {
  const secret = secretBytes(key);
  const fields: TsigFields = {
    timeSigned: Math.floor(nowMs / 1000),
    fudge: TSIG_FUDGE_SECONDS,
    error: 0,
    other: Buffer.alloc(0),
  };
  const mac = hmac(key, secret, [message, variables(key, fields)]);
  const rdata = Buffer.concat([
    encodeName(canonicalName(key.algorithm)),
    u48(fields.timeSigned),
    u16(fields.fudge),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(0),
    u16(0),
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(RR_TYPE.TSIG, 0);
  fixed.writeUInt16BE(RR_CLASS.ANY, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  const signed = Buffer.concat([message, encodeName(canonicalName(key.name)), fixed, rdata]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

export interface ResponseTsig {
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  /** TSIG error: 0, or BADSIG (16), BADKEY (17), BADTIME (18)… */
  readonly error: number;
  readonly other: Buffer;
  /** Where the TSIG record starts in the answer. */
  readonly start: number;
}

/** The answer's TSIG record (always the last additional record), or undefined when unsigned. */
export function readTsig(message: Buffer, parsed: ParsedMessage): ResponseTsig | undefined {
  const last = parsed.additional.at(-1);
  if (last === undefined || last.type !== RR_TYPE.TSIG) return undefined;
  const rdata = last.rdata;
  let at = 0;
  // The algorithm name inside TSIG RDATA is never compressed.
  const labels: string[] = [];
  for (let steps = 0; steps < 128 && at < rdata.length && rdata[at] !== 0; steps++) {
    labels.push(rdata.toString('ascii', at + 1, at + 1 + rdata[at]!));
    at += 1 + rdata[at]!;
  }
  at += 1;
  if (at + 10 > rdata.length) return undefined;
  const timeSigned = rdata.readUIntBE(at, 6);
  const fudge = rdata.readUInt16BE(at + 6);
  const macLength = rdata.readUInt16BE(at + 8);
  const macStart = at + 10;
  if (macStart + macLength + 6 > rdata.length) return undefined;
  const after = macStart + macLength;
  const otherLength = rdata.readUInt16BE(after + 4);
  return {
    algorithm: `${labels.join('.')}.`.toLowerCase(),
    timeSigned,
    fudge,
    mac: rdata.subarray(macStart, after),
    originalId: rdata.readUInt16BE(after),
    error: rdata.readUInt16BE(after + 2),
    other: rdata.subarray(after + 6, after + 6 + otherLength),
    start: last.start,
  };
}

/**
 * Checks a signed answer to a request whose MAC was `requestMac`. Returns nothing when the
 * signature is good; otherwise a sentence saying what is wrong.
 */
export function verifyResponse(
  message: Buffer,
  tsig: ResponseTsig,
  requestMac: Buffer,
  key: TsigKey,
  nowMs: number,
): string | undefined {
  if (tsig.algorithm !== canonicalName(key.algorithm)) {
    return `the answer is signed with ${tsig.algorithm}, not ${key.algorithm}`;
  }
  if (tsig.error !== 0) return `the answer's TSIG carries ${rcodeName(tsig.error)}`;
  const unsigned = Buffer.from(message.subarray(0, tsig.start));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, secretBytes(key), [
    u16(requestMac.length),
    requestMac,
    unsigned,
    variables(key, tsig),
  ]);
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    return "the answer's TSIG signature does not verify (a forged answer, or a different key)";
  }
  if (Math.abs(Math.floor(nowMs / 1000) - tsig.timeSigned) > tsig.fudge) {
    return 'the answer was signed at a time outside the fudge window (check both clocks)';
  }
  return undefined;
}
