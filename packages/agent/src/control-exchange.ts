/**
 * Waiting for control replies on a session (HELLO_ACK, BIND_ACK): one place that handles
 * the timeout, cancellation, GOAWAY and the session closing underneath, and always removes
 * its listeners, so handshake and bind code only say which frames they are looking for.
 */

import { TunnelError, toTunnelError, type ControlType, type Session, type Timers } from '@burrow/protocol';

export interface ControlExchangeOptions<T> {
  readonly timers: Timers;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Rejection when `timeoutMs` passes without a result. */
  readonly timeoutError: () => TunnelError;
  /** What was being waited for, for the error when the session closes: "the handshake". */
  readonly what: string;
  /**
   * Sees every control frame. Returns the result when it is complete, undefined to keep
   * waiting; throwing rejects the exchange with the thrown error.
   */
  readonly onControl: (type: ControlType, payload: Buffer) => T | undefined;
}

/** Resolves with the first result `onControl` returns; listeners are attached before the promise returns. */
export function awaitControl<T>(session: Session, options: ControlExchangeOptions<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      options.timers.clearTimeout(timer);
      session.off('control', onControl);
      session.off('goaway', onGoaway);
      session.off('close', onClose);
      options.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onControl = (type: ControlType, payload: Buffer): void => {
      let result: T | undefined;
      try {
        result = options.onControl(type, payload);
      } catch (err) {
        finish(() => reject(toTunnelError(err, 'TUN_ERR_BAD_MESSAGE')));
        return;
      }
      if (result !== undefined) {
        const value = result;
        finish(() => resolve(value));
      }
    };
    // A GOAWAY during setup carries the edge's reason; the close that follows would not.
    const onGoaway = (err: TunnelError): void =>
      finish(() => reject(toTunnelError(err, 'TUN_ERR_BAD_MESSAGE')));
    const onClose = (err: TunnelError | undefined): void =>
      finish(() =>
        reject(
          err?.code === 'TUN_ERR_SESSION_CLOSED' || err === undefined
            ? new TunnelError(
                'TUN_ERR_SESSION_CLOSED',
                `the edge closed the connection during ${options.what}`,
              )
            : err,
        ),
      );
    const onAbort = (): void =>
      finish(() => reject(new TunnelError('TUN_ERR_SESSION_CLOSED', `cancelled during ${options.what}`)));
    const timer = options.timers.setTimeout(
      () => finish(() => reject(options.timeoutError())),
      options.timeoutMs,
    );
    session.on('control', onControl);
    session.on('goaway', onGoaway);
    session.on('close', onClose);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (session.isClosed) onClose(undefined);
    if (options.signal.aborted) onAbort();
  });
}
