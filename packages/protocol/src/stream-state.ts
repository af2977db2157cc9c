/**
 * The stream lifecycle as an explicit state machine. `transition()` is the only mutator;
 * an event the current state does not allow is a protocol error (TUN_ERR_STREAM_STATE).
 *
 *   opener (edge):    init --sendOpen--> synSent --recvHead--> established
 *   acceptor (agent): init --recvOpen--> synReceived --sendHead--> established
 *   either side: FIN half-closes one direction (localClosed / remoteClosed, both: closed);
 *   RESET aborts both directions from any live state (reset).
 *
 * The opener may send body DATA and FIN while still in synSent (a request body streams
 * before the response head arrives); the acceptor may not send DATA before its HEAD.
 */

import { TunnelError } from './errors.js';

export type StreamState =
  'init' | 'synSent' | 'synReceived' | 'established' | 'localClosed' | 'remoteClosed' | 'closed' | 'reset';

export type StreamEvent =
  | 'sendOpen'
  | 'recvOpen'
  | 'sendHead'
  | 'recvHead'
  | 'sendData'
  | 'recvData'
  | 'sendFin'
  | 'recvFin'
  | 'sendReset'
  | 'recvReset';

type Phase = 'init' | 'synSent' | 'synReceived' | 'established';

function assertNever(value: never): never {
  throw new Error(`unhandled stream event ${String(value)}`);
}

export class StreamStateMachine {
  private phase: Phase = 'init';
  private localEnded = false;
  private remoteEnded = false;
  private aborted = false;

  get state(): StreamState {
    if (this.aborted) return 'reset';
    if (this.localEnded && this.remoteEnded) return 'closed';
    if (this.phase !== 'established') return this.phase;
    if (this.localEnded) return 'localClosed';
    if (this.remoteEnded) return 'remoteClosed';
    return 'established';
  }

  /** True once nothing more can be sent or received (closed or reset). */
  get finished(): boolean {
    return this.aborted || (this.localEnded && this.remoteEnded);
  }

  get canSend(): boolean {
    return !this.aborted && !this.localEnded && (this.phase === 'synSent' || this.phase === 'established');
  }

  get remoteDone(): boolean {
    return this.aborted || this.remoteEnded;
  }

  /** Applies an event or throws TUN_ERR_STREAM_STATE, leaving the state unchanged. */
  transition(event: StreamEvent): void {
    if (this.aborted) throw this.illegal(event);
    switch (event) {
      case 'sendOpen':
        return this.move(event, 'init', 'synSent');
      case 'recvOpen':
        return this.move(event, 'init', 'synReceived');
      case 'sendHead':
        return this.move(event, 'synReceived', 'established');
      case 'recvHead':
        return this.move(event, 'synSent', 'established');
      case 'sendData':
        if (!this.canSend) throw this.illegal(event);
        return;
      case 'sendFin':
        if (!this.canSend) throw this.illegal(event);
        this.localEnded = true;
        return;
      case 'recvData':
        if (!this.canReceive()) throw this.illegal(event);
        return;
      case 'recvFin':
        if (!this.canReceive()) throw this.illegal(event);
        this.remoteEnded = true;
        return;
      case 'sendReset':
      case 'recvReset':
        if (this.finished) throw this.illegal(event);
        this.aborted = true;
        return;
      default:
        return assertNever(event);
    }
  }

  private canReceive(): boolean {
    return !this.remoteEnded && (this.phase === 'synReceived' || this.phase === 'established');
  }

  private move(event: StreamEvent, from: Phase, to: Phase): void {
    if (this.phase !== from) throw this.illegal(event);
    this.phase = to;
  }

  private illegal(event: StreamEvent): TunnelError {
    return new TunnelError('TUN_ERR_STREAM_STATE', `${event} is not allowed in state ${this.state}`);
  }
}
