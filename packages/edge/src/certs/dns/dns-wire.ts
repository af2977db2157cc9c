/**
 * The DNS message format (RFC 1035 §4), only as far as DNS-01 publishing needs it: building
 * queries and UPDATE messages (RFC 2136 reuses the four sections as zone, prerequisite,
 * update and additional), and reading answers with compressed names. Parsing is bounded:
 * every read is checked against the buffer, and compression pointers may only point back.
 */
import { TunnelError } from '@burrow/protocol';

export const RR_TYPE = { SOA: 6, TXT: 16, TSIG: 250 } as const;
export const RR_CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE = { QUERY: 0, UPDATE: 5 } as const;

/** RCODEs (RFC 1035, 2136) and the TSIG error codes (RFC 8945) by number. */
const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE ${code}`;
}

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface ParsedRecord extends ResourceRecord {
  /** Offset of the record's first byte in the message (TSIG verification cuts there). */
  readonly start: number;
  /** Offset of the RDATA, for reading names inside it against the whole message. */
  readonly rdataStart: number;
}

export interface ParsedMessage {
  readonly id: number;
  readonly opcode: number;
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly answers: readonly ParsedRecord[];
  readonly authority: readonly ParsedRecord[];
  readonly additional: readonly ParsedRecord[];
}

function malformed(detail: string): TunnelError {
  return new TunnelError('TUN_ERR_DNS_UPDATE_FAILED', `the DNS server sent a malformed answer (${detail})`);
}

/** `Example.COM` or `example.com.` -> `example.com.`: absolute and lower-case, for comparisons. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** A name in wire form, uncompressed. Throws on empty labels or lengths past RFC 1035's limits. */
export function encodeName(name: string): Buffer {
  const absolute = canonicalName(name);
  if (absolute === '.') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of absolute.slice(0, -1).split('.')) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > 63) {
      throw new TunnelError(
        'TUN_ERR_DNS_UPDATE_FAILED',
        `"${name}" is not a valid DNS name (label "${label}")`,
      );
    }
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255)
    throw new TunnelError('TUN_ERR_DNS_UPDATE_FAILED', `"${name}" is longer than 255 bytes`);
  return wire;
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function encodeRecord(rr: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.class, 2);
  fixed.writeUInt32BE(rr.ttl, 4);
  fixed.writeUInt16BE(rr.rdata.length, 8);
  return Buffer.concat([encodeName(rr.name), fixed, rr.rdata]);
}

export interface MessageSpec {
  readonly id: number;
  readonly opcode: number;
  readonly recursionDesired?: boolean;
  /** Question section, or the zone section of an UPDATE. */
  readonly questions: readonly Question[];
  /** Answer section, or the prerequisites of an UPDATE. */
  readonly answers?: readonly ResourceRecord[];
  /** Authority section, or the updates of an UPDATE. */
  readonly authority?: readonly ResourceRecord[];
}

export function encodeMessage(spec: MessageSpec): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id, 0);
  header.writeUInt16BE(((spec.opcode & 0xf) << 11) | (spec.recursionDesired === true ? 0x0100 : 0), 2);
  const answers = spec.answers ?? [];
  const authority = spec.authority ?? [];
  header.writeUInt16BE(spec.questions.length, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(0, 10);
  const questions = spec.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]));
  return Buffer.concat([header, ...questions, ...answers.map(encodeRecord), ...authority.map(encodeRecord)]);
}

/** TXT RDATA: the value as character-strings of at most 255 bytes each. */
export function encodeTxt(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length || parts.length === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

/** The character-strings of a TXT RDATA joined, as ACME servers read them. */
export function decodeTxt(rdata: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at < rdata.length;) {
    const length = rdata[at]!;
    if (at + 1 + length > rdata.length) throw malformed('TXT string past its RDATA');
    parts.push(rdata.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Reads a possibly compressed name at `offset`; returns it (absolute, lower-case) and the offset after it. */
export function readName(message: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  let limit = at;
  for (let steps = 0; steps < 128; steps++) {
    if (at >= message.length) throw malformed('name past the end');
    const length = message[at]!;
    if (length === 0) {
      const name = labels.length === 0 ? '.' : `${labels.join('.')}.`;
      return { name: name.toLowerCase(), next: next === -1 ? at + 1 : next };
    }
    if ((length & 0xc0) === 0xc0) {
      if (at + 1 >= message.length) throw malformed('pointer past the end');
      const target = ((length & 0x3f) << 8) | message[at + 1]!;
      // Pointers only go backwards, so a name cannot loop.
      if (target >= limit) throw malformed('forward compression pointer');
      if (next === -1) next = at + 2;
      at = target;
      limit = target;
      continue;
    }
    if ((length & 0xc0) !== 0) throw malformed('unknown label type');
    if (at + 1 + length > message.length) throw malformed('label past the end');
    labels.push(message.toString('ascii', at + 1, at + 1 + length));
    at += 1 + length;
  }
  throw malformed('name too long');
}

function readRecords(
  message: Buffer,
  offset: number,
  count: number,
): { records: ParsedRecord[]; next: number } {
  const records: ParsedRecord[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const start = at;
    const { name, next } = readName(message, at);
    if (next + 10 > message.length) throw malformed('record header past the end');
    const rdLength = message.readUInt16BE(next + 8);
    const rdataStart = next + 10;
    if (rdataStart + rdLength > message.length) throw malformed('RDATA past the end');
    records.push({
      name,
      type: message.readUInt16BE(next),
      class: message.readUInt16BE(next + 2),
      ttl: message.readUInt32BE(next + 4),
      rdata: message.subarray(rdataStart, rdataStart + rdLength),
      start,
      rdataStart,
    });
    at = rdataStart + rdLength;
  }
  return { records, next: at };
}

export function parseMessage(message: Buffer): ParsedMessage {
  if (message.length < 12) throw malformed('shorter than a header');
  const flags = message.readUInt16BE(2);
  let at = 12;
  for (let i = 0; i < message.readUInt16BE(4); i++) at = readName(message, at).next + 4;
  const answers = readRecords(message, at, message.readUInt16BE(6));
  const authority = readRecords(message, answers.next, message.readUInt16BE(8));
  const additional = readRecords(message, authority.next, message.readUInt16BE(10));
  return {
    id: message.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    answers: answers.records,
    authority: authority.records,
    additional: additional.records,
  };
}
