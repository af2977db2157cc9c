/**
 * Waits until every authoritative server answers a TXT value, polling each until it does,
 * for at most `timeoutMs`. Runs only after the update was accepted, so it never polls for a
 * record that was never created (traefik#4344); a server that keeps not showing it ends in
 * an error naming the server and what it last answered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TunnelError } from '@burrow/protocol';
import { RR_TYPE, canonicalName, decodeTxt, rcodeName } from './dns-wire.js';
import { formatServer, type DnsServerAddress } from './dns-transport.js';
import { queryServer } from './dns-query.js';

export interface PropagationWait {
  readonly servers: readonly DnsServerAddress[];
  readonly fqdn: string;
  readonly value: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly queryTimeoutMs: number;
}

/** What one server answered for the name, in words, for the error message. */
async function check(
  server: DnsServerAddress,
  w: PropagationWait,
): Promise<{ seen: boolean; answer: string }> {
  try {
    const answer = await queryServer(server, w.fqdn, RR_TYPE.TXT, w.queryTimeoutMs);
    const values = answer.answers
      .filter((rr) => rr.type === RR_TYPE.TXT && rr.name === canonicalName(w.fqdn))
      .map((rr) => decodeTxt(rr.rdata));
    if (values.includes(w.value)) return { seen: true, answer: '' };
    const held = values.length === 0 ? 'no TXT value' : `${values.length} other TXT value(s)`;
    return { seen: false, answer: `${rcodeName(answer.rcode)} with ${held}` };
  } catch (err) {
    return { seen: false, answer: err instanceof Error ? err.message : String(err) };
  }
}

export async function waitUntilAnswered(w: PropagationWait): Promise<void> {
  const deadline = performance.now() + w.timeoutMs;
  const pending = new Map(w.servers.map((server) => [formatServer(server), server]));
  const lastAnswer = new Map<string, string>();
  for (;;) {
    for (const [name, server] of [...pending]) {
      const result = await check(server, w);
      if (result.seen) pending.delete(name);
      else lastAnswer.set(name, result.answer);
    }
    if (pending.size === 0) return;
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(w.pollIntervalMs, left));
  }
  const missing = [...pending.keys()].map((name) => `${name} (last answer: ${lastAnswer.get(name)})`);
  throw new TunnelError(
    'TUN_ERR_DNS_PROPAGATION_TIMEOUT',
    `after ${w.timeoutMs} ms the TXT value for ${canonicalName(w.fqdn)} is still not answered by ${missing.join(', ')}: check that these servers receive the zone from the primary (NOTIFY, zone transfers), or raise the propagation timeout`,
  );
}
