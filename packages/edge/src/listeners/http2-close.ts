/**
 * Closing an HTTP/2 stream whose answer is out while the viewer is still uploading
 * (NO_ERROR, RFC 9113 §8.1). The response's 'finish' fires once its bytes are handed to
 * nghttp2, which can be long before they are sent (a slow reader's flow-control window
 * holds the last DATA and the trailers HEADERS queued behind it): closing then drops the
 * trailers. Node has no event for "END_STREAM sent", so the stream's state is checked every
 * LOCAL_END_POLL_MS until the local side has closed; the checks end with the stream (which
 * the upload bound in http2-viewers.ts closes at the latest).
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import { realTimers, type Timers } from '@burrow/protocol';

export const LOCAL_END_POLL_MS = 20;
/** A viewer that never lets the last bytes go (no window) is cancelled after this. */
export const LOCAL_END_LIMIT_MS = 300_000;

function localEnded(stream: ServerHttp2Stream): boolean {
  const { localClose, state } = stream.state;
  return localClose === 1 || state === undefined || state === constants.NGHTTP2_STREAM_STATE_CLOSED;
}

/** Closes `stream` with NO_ERROR once the response has ended and its END_STREAM was sent. */
export function closeAfterResponse(stream: ServerHttp2Stream, timers: Timers = realTimers): void {
  const closeWhenSent = (): void => {
    if (stream.closed || stream.destroyed) return;
    if (localEnded(stream)) {
      stream.close(constants.NGHTTP2_NO_ERROR);
      return;
    }
    const deadline = timers.now() + LOCAL_END_LIMIT_MS;
    const poll = timers.setInterval(() => {
      if (stream.closed || stream.destroyed) timers.clearInterval(poll);
      else if (localEnded(stream)) {
        timers.clearInterval(poll);
        stream.close(constants.NGHTTP2_NO_ERROR);
      } else if (timers.now() >= deadline) {
        timers.clearInterval(poll);
        stream.close(constants.NGHTTP2_CANCEL);
      }
    }, LOCAL_END_POLL_MS);
    stream.once('close', () => timers.clearInterval(poll));
  };
  if (stream.writableFinished) closeWhenSent();
  else stream.once('finish', closeWhenSent);
}
