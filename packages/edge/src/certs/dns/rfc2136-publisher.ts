/**
 * DNS-01 challenge records through RFC 2136 dynamic updates signed with TSIG (RFC 8945):
 * works with BIND, Knot, PowerDNS and DNS hosts that accept signed updates. `publish` adds
 * one TXT record to the name's set (never replaces it), checks the signed answer, and then
 * waits until the authoritative servers answer the value; `unpublish` deletes that one
 * record (class NONE, RFC 2136 §2.5.4). A refused update fails at once with its RCODE.
 */
import { randomInt } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';
import type { DnsChallengePublisher } from './publisher.js';
import {
  OPCODE,
  RR_CLASS,
  RR_TYPE,
  canonicalName,
  encodeMessage,
  encodeTxt,
  parseMessage,
  type ResourceRecord,
} from './dns-wire.js';
import { exchange, formatServer, type DnsServerAddress } from './dns-transport.js';
import { readTsig, signMessage, verifyResponse, type TsigKey } from './tsig.js';
import { refusedUpdateError } from './update-error.js';
import { findZone } from './zone-finder.js';
import { waitUntilAnswered } from './propagation.js';

export interface Rfc2136Options {
  /** The zone's primary server, which accepts the updates. */
  readonly server: DnsServerAddress;
  /** The zone to update (`example.com.`); unset or null finds it by SOA queries to `server`. */
  readonly zone?: string | null;
  readonly key: TsigKey;
  /** How long `publish` waits for the authoritative servers to answer the value. */
  readonly propagationTimeoutMs: number;
  /** Servers that must answer the value before `publish` resolves; default: `server` alone. */
  readonly authoritativeServers?: readonly DnsServerAddress[];
  /** TTL of the TXT records; short, so a stale value is not cached long by resolvers. */
  readonly ttlSeconds?: number;
  readonly pollIntervalMs?: number;
  /** Per query or update attempt. */
  readonly queryTimeoutMs?: number;
  /** Wall clock in ms, for the TSIG time; injectable to test a skewed clock. */
  readonly now?: () => number;
}

const DEFAULT_TTL_SECONDS = 60;
const DEFAULT_POLL_INTERVAL_MS = 2_000;
const DEFAULT_QUERY_TIMEOUT_MS = 3_000;

export class Rfc2136Publisher implements DnsChallengePublisher {
  private readonly now: () => number;

  constructor(private readonly options: Rfc2136Options) {
    this.now = options.now ?? Date.now;
  }

  async publish(fqdn: string, value: string): Promise<void> {
    const zone = await this.zoneOf(fqdn);
    const ttl = this.options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    await this.update(fqdn, zone, {
      name: fqdn,
      type: RR_TYPE.TXT,
      class: RR_CLASS.IN,
      ttl,
      rdata: encodeTxt(value),
    });
    await waitUntilAnswered({
      servers: this.options.authoritativeServers ?? [this.options.server],
      fqdn,
      value,
      timeoutMs: this.options.propagationTimeoutMs,
      pollIntervalMs: this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      queryTimeoutMs: this.queryTimeoutMs(),
    });
  }

  async unpublish(fqdn: string, value: string): Promise<void> {
    const zone = await this.zoneOf(fqdn);
    // Class NONE with TTL 0 deletes exactly this RR; other values at the name stay.
    await this.update(fqdn, zone, {
      name: fqdn,
      type: RR_TYPE.TXT,
      class: RR_CLASS.NONE,
      ttl: 0,
      rdata: encodeTxt(value),
    });
  }

  private queryTimeoutMs(): number {
    return this.options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  }

  private async zoneOf(fqdn: string): Promise<string> {
    const configured = this.options.zone;
    if (configured !== undefined && configured !== null && configured !== '')
      return canonicalName(configured);
    return findZone(this.options.server, fqdn, this.queryTimeoutMs());
  }

  private async update(fqdn: string, zone: string, change: ResourceRecord): Promise<void> {
    const { server, key } = this.options;
    const id = randomInt(0, 0x10000);
    const message = encodeMessage({
      id,
      opcode: OPCODE.UPDATE,
      questions: [{ name: zone, type: RR_TYPE.SOA, class: RR_CLASS.IN }],
      authority: [change],
    });
    const { signed, mac } = signMessage(message, key, this.now());
    const raw = await exchange(server, signed, this.queryTimeoutMs());
    const answer = parseMessage(raw);
    const where = formatServer(server);
    if (answer.id !== id || answer.opcode !== OPCODE.UPDATE) {
      throw new TunnelError(
        'TUN_ERR_DNS_UPDATE_FAILED',
        `the DNS server ${where} answered something other than the update`,
      );
    }
    const tsig = readTsig(raw, answer);
    if (answer.rcode !== 0 || (tsig !== undefined && tsig.error !== 0)) {
      throw refusedUpdateError({
        fqdn: canonicalName(fqdn),
        zone,
        server: where,
        keyName: key.name,
        algorithm: key.algorithm,
        rcode: answer.rcode,
        tsigError: tsig?.error ?? 0,
      });
    }
    // A success must be signed by the same key; otherwise anyone could have sent it.
    const problem =
      tsig === undefined ? 'the answer is not signed' : verifyResponse(raw, tsig, mac, key, this.now());
    if (problem !== undefined) {
      throw new TunnelError(
        'TUN_ERR_DNS_UPDATE_FAILED',
        `DNS UPDATE of ${canonicalName(fqdn)} at ${where} cannot be trusted: ${problem}`,
      );
    }
  }
}
