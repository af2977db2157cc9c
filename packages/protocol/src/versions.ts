/** Version negotiation: the agent lists what it speaks, the edge picks the highest in common. */

import { PROTOCOL_VERSION } from './frame.js';
import { TunnelError } from './errors.js';

export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** The highest version both sides speak; throws TUN_ERR_BAD_VERSION when there is none. */
export function negotiateVersion(offered: readonly number[], supported = SUPPORTED_VERSIONS): number {
  const common = offered.filter((v) => supported.includes(v));
  if (common.length === 0) {
    throw new TunnelError(
      'TUN_ERR_BAD_VERSION',
      `no protocol version in common: peer speaks ${offered.join(', ')}, we speak ${supported.join(', ')}`,
    );
  }
  return Math.max(...common);
}
