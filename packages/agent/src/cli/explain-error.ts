/**
 * The one line the CLI prints when the agent gives up: what happened, the code, and what to
 * do about it in terms of the CLI's own flags and variables. Keyed by code or error class, never by message.
 */

import type { ErrorCode, TunnelError } from '@burrow/protocol';
import { PolicyRefusedError } from '../policy-refusal.js';

/** What to do, per code; codes not listed get the edge's message and code only. */
const ADVICE: Partial<Record<ErrorCode, string>> = {
  TUN_ERR_NAME_TAKEN: 'Pick another --name, or leave it out for a random one.',
  TUN_ERR_NAME_INVALID: 'A name is a DNS label: lower-case letters, digits and hyphens, up to 63 characters.',
  TUN_ERR_NAME_IN_USE:
    'Another agent session serves this name. Stop it, or if it is a stale session of yours, run again with --force.',
  TUN_ERR_NAME_REQUIRES_KEY: 'Pass an API key with --token or BURROW_TOKEN, or leave out --name.',
  TUN_ERR_TUNNEL_LIMIT: 'Start fewer tunnels on this agent, or ask the edge operator for a higher limit.',
  TUN_ERR_BAD_VERSION: 'Update burrow or the edge so that both speak the same protocol version.',
  TUN_ERR_PROTOCOL: 'This is a bug in burrow or the edge; update both, and report it if it persists.',
  TUN_ERR_BAD_MESSAGE: 'This is a bug in burrow or the edge; update both, and report it if it persists.',
  TUN_ERR_EDGE_TLS:
    'If the edge uses a private CA, pass its certificate with --ca FILE (or BURROW_CA); an expired ' +
    'certificate or one for another host is for the edge operator to replace, or check the host in ' +
    '--server. burrow keeps retrying and never connects without verifying.',
};

/** What to do about `err`, for codes that have advice; the text output adds it to retry lines. */
export function adviceFor(err: TunnelError): string | undefined {
  return ADVICE[err.code];
}

/** The edge names policy fields as burrow.yml does; the flags spell the same words in kebab-case. */
const POLICY_ADVICE =
  'Fix the setting it names: a key of the tunnel in burrow.yml, or for burrow http the flag of ' +
  'the same words (allowIp is --allow-ip, rateLimit is --rate-limit).';

export function explainError(err: TunnelError): string {
  if (err instanceof PolicyRefusedError) return `${err.message} (${err.code}). ${POLICY_ADVICE}`;
  switch (err.code) {
    case 'TUN_ERR_UNAUTHORIZED':
      return 'the edge rejected the API key (TUN_ERR_UNAUTHORIZED). Check --token or BURROW_TOKEN.';
    case 'TUN_ERR_CONFIG_INVALID':
      // Config messages already name the setting, its source and the accepted values.
      return err.message;
    default: {
      const advice = ADVICE[err.code];
      return `${err.message} (${err.code}).${advice === undefined ? '' : ` ${advice}`}`;
    }
  }
}
