// The parser reads answers from the network: it must reject what is malformed, never loop or over-read.
import { describe, expect, it } from 'vitest';
import {
  decodeTxt,
  encodeMessage,
  encodeName,
  encodeTxt,
  parseMessage,
  readName,
  RR_CLASS,
  RR_TYPE,
  OPCODE,
} from './dns-wire.js';

describe('dns-wire', () => {
  it('round-trips a message with a record', () => {
    const wire = encodeMessage({
      id: 0xbeef,
      opcode: OPCODE.UPDATE,
      questions: [{ name: 'Tunnel.Test', type: RR_TYPE.SOA, class: RR_CLASS.IN }],
      answers: [
        {
          name: '_acme-challenge.tunnel.test.',
          type: RR_TYPE.TXT,
          class: RR_CLASS.IN,
          ttl: 60,
          rdata: encodeTxt('v'),
        },
      ],
    });
    const parsed = parseMessage(wire);
    expect(parsed).toMatchObject({ id: 0xbeef, opcode: OPCODE.UPDATE, rcode: 0 });
    expect(parsed.answers.map((rr) => [rr.name, rr.ttl, decodeTxt(rr.rdata)])).toEqual([
      ['_acme-challenge.tunnel.test.', 60, 'v'],
    ]);
  });

  it('splits TXT values over 255 bytes into character-strings and joins them back', () => {
    const value = 'x'.repeat(600);
    const rdata = encodeTxt(value);
    expect([rdata[0], rdata[256], rdata[512]]).toEqual([255, 255, 90]);
    expect(decodeTxt(rdata)).toBe(value);
  });

  it('refuses names with empty or long labels', () => {
    expect(() => encodeName('a..b')).toThrow(/not a valid DNS name/);
    expect(() => encodeName(`${'a'.repeat(64)}.test`)).toThrow(/not a valid DNS name/);
    expect(() => encodeName(Array.from({ length: 130 }, () => 'ab').join('.'))).toThrow(/longer than 255/);
  });

  it('follows backward compression pointers and refuses loops and forward pointers', () => {
    const base = Buffer.concat([Buffer.alloc(12), encodeName('tunnel.test.')]);
    const pointer = Buffer.concat([base, Buffer.from([4, 0x5f, 0x61, 0x63, 0x6d, 0xc0, 12])]);
    expect(readName(pointer, base.length).name).toBe('_acm.tunnel.test.');
    const selfLoop = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 12])]);
    expect(() => readName(selfLoop, 12)).toThrow(/forward compression pointer/);
    const forward = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 20])]);
    expect(() => readName(forward, 12)).toThrow(/forward compression pointer/);
  });

  it('refuses messages cut short', () => {
    expect(() => parseMessage(Buffer.alloc(5))).toThrow(/shorter than a header/);
    const wire = encodeMessage({
      id: 1,
      opcode: OPCODE.QUERY,
      questions: [],
      answers: [
        { name: 'a.test.', type: RR_TYPE.TXT, class: RR_CLASS.IN, ttl: 1, rdata: encodeTxt('hello') },
      ],
    });
    expect(() => parseMessage(wire.subarray(0, wire.length - 2))).toThrow(/RDATA past the end/);
    expect(() => decodeTxt(Buffer.from([9, 0x61]))).toThrow(/TXT string past its RDATA/);
  });
});
