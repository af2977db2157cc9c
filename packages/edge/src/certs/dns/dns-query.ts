/** A plain non-recursive query to one server: what an authoritative server holds itself. */
import { randomInt } from 'node:crypto';
import { TunnelError } from '@burrow/protocol';
import { OPCODE, RR_CLASS, encodeMessage, parseMessage, type ParsedMessage } from './dns-wire.js';
import { exchange, formatServer, type DnsServerAddress } from './dns-transport.js';

export async function queryServer(
  server: DnsServerAddress,
  name: string,
  type: number,
  timeoutMs: number,
): Promise<ParsedMessage> {
  const id = randomInt(0, 0x10000);
  const message = encodeMessage({
    id,
    opcode: OPCODE.QUERY,
    questions: [{ name, type, class: RR_CLASS.IN }],
  });
  const answer = parseMessage(await exchange(server, message, timeoutMs));
  if (answer.id !== id) {
    throw new TunnelError(
      'TUN_ERR_DNS_UPDATE_FAILED',
      `the DNS server ${formatServer(server)} answered another query`,
    );
  }
  return answer;
}
