/**
 * What both forwarders' exchanges hold: the stream, the request head, the origin with its TLS
 * options, the agent's forwarding context and the request's clock (for its log record).
 */
import type { MuxStream, RequestHead } from '@burrow/protocol';
import type { ForwardContext } from './forward-context.js';
import type { OriginTlsOptions } from './origin-tls-options.js';
import { RequestClock } from './request-log.js';

export abstract class OriginExchange {
  protected readonly clock: RequestClock;

  constructor(
    protected readonly stream: MuxStream,
    protected readonly head: RequestHead,
    protected readonly origin: URL,
    protected readonly tls: OriginTlsOptions,
    protected readonly context: ForwardContext,
  ) {
    this.clock = new RequestClock(head, stream.upgrade, context.timers);
  }
}
