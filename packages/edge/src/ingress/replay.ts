/**
 * Replay: a recorded request sent through its tunnel again, for its owner (`POST
 * /api/v1/requests/{id}/replay`). It goes straight to the agent's stream, past the policy
 * gate: the owner asked for it with their key, and the viewer's credentials were redacted
 * from the record anyway. The policy's request header edits still apply, so the origin sees
 * what it saw the first time. The answer is read (up to the capture limit, the rest counted and
 * dropped) and becomes a record of its own, `replayOf` the original, through the same
 * observers as any request: history, statistics, metrics, the live feed.
 */

import { Readable } from 'node:stream';
import {
  pumpIntoStream,
  TunnelError,
  toTunnelError,
  type MuxStream,
  type ResponseHead,
} from '@burrow/protocol';
import type { RequestObserver } from '../observe/request-observer.js';
import { traceContextFor } from '../observe/trace-context.js';
import type { RequestCapture, RequestRecord } from '../store/request-records.js';
import { BodyCapture } from './exchange-capture.js';
import {
  DEFAULT_RECORD_OPTIONS,
  MAX_RECORD_PATH,
  recordTiming,
  redactedHeaders,
  type RecordOptions,
} from './exchange-record.js';
import { requestHeadersForAgent } from './headers.js';
import { openTunnelStream, ViewerPresence, type ResolveDeps } from './resolve-target.js';
import type { PolicySource, TunnelRequest } from './tunnel-request.js';

export interface ReplayDeps extends ResolveDeps {
  policies: PolicySource;
  observer?: RequestObserver | null;
  recordOptions?: RecordOptions;
  newRequestId(): string;
  /** The agent must answer with its head within this long (`timeouts.requestMs`). */
  requestTimeoutMs: number;
  /** A response body idle this long is cut (`timeouts.responseIdleMs`). */
  responseIdleMs: number;
  /** Monotonic ms for the timing breakdown. */
  stopwatch(): number;
  /** `X-Forwarded-Proto` toward the origin: the scheme of the tunnel's public URL. */
  proto: 'http' | 'https';
  /** Whether the replay's new trace is sampled (true when spans are exported). */
  sampleNewTraces?: boolean;
}

export interface ReplayResult {
  /** The new record's id (also the `X-Request-Id` the origin saw). */
  id: string;
  /** The origin's status, or 0 when there was no answer (then `errorCode` says why). */
  status: number;
  errorCode: string | null;
}

/** The marker header the origin sees on a replayed request. */
export const REPLAY_HEADER = 'X-Burrow-Replay-Of';

/** Why a record cannot be replayed as it was, or null when it can. */
export function replayRefusal(
  original: RequestRecord,
  options: RecordOptions = DEFAULT_RECORD_OPTIONS,
): string | null {
  if (original.upgrade) return 'an upgrade (WebSocket) cannot be replayed';
  const capture = original.capture;
  if (capture === null)
    return 'the request was not captured; turn capture on in the tunnel policy (capture: {bodies: true}) to replay requests recorded after that';
  if (!options.keepQuery) return 'this edge records paths without their query (history.keepQuery is off)';
  if (original.path.length >= MAX_RECORD_PATH) return 'the recorded path was cut short';
  if (original.path.includes('burrow_token=***')) return 'the recorded path has its access token masked';
  const declared = declaredBody(capture.requestHeaders);
  const body = capture.requestBody;
  // Transfer-Encoding is hop-by-hop (not in the capture) and HTTP/2 needs no Content-Length:
  // bytes seen, a kept body or a cut one say there was a body as surely as a declared length.
  const hadBody =
    (declared !== null && declared > 0) ||
    original.bytesIn > 0 ||
    body !== null ||
    capture.requestBodyTruncated;
  if (!hadBody) return null;
  if (capture.requestBodyTruncated)
    return body === null
      ? 'the request body did not reach the tunnel whole (refused or cut before it was read)'
      : `only the first ${body.length} bytes of the body were captured (or it did not reach the tunnel whole); raise capture.maxBytes to replay requests this large`;
  if (body === null)
    return 'the request had a body that was not captured; turn body capture on in the tunnel policy (capture: {bodies: true}) to replay such requests';
  if ((declared > 0 && body.length !== declared) || body.length !== original.bytesIn)
    return 'the request body did not reach the tunnel whole';
  return null;
}

/** The captured head's Content-Length, 0 without one (Transfer-Encoding is hop-by-hop: never captured). */
function declaredBody(headers: readonly string[]): number {
  for (let i = 0; i + 1 < headers.length; i += 2)
    if (headers[i]!.toLowerCase() === 'content-length') return Number(headers[i + 1]) || 0;
  return 0;
}

/**
 * Sends `original` again. Refusals (`TUN_ERR_REPLAY_UNAVAILABLE`, an offline agent) throw
 * before anything is sent; once sent, a failure is the new record's error code, not a throw.
 */
export async function replayRequest(
  deps: ReplayDeps,
  original: RequestRecord,
  callerAddress: string,
  signal?: AbortSignal,
): Promise<ReplayResult> {
  const refusal = replayRefusal(original, deps.recordOptions);
  if (refusal !== null) throw new TunnelError('TUN_ERR_REPLAY_UNAVAILABLE', refusal);
  const name = original.tunnel;
  const live = deps.registry.lookup(name);
  // A temporary name reused by someone else: their origin must not get this user's request.
  if (live !== undefined && live.userId !== original.userId) throw servedByAnother(name);
  const arrivedAt = deps.stopwatch();
  const request: TunnelRequest = {
    route: { name, path: original.path, prefix: null },
    target: live,
    policy: deps.policies.get(name),
    requestId: deps.newRequestId(),
    clientAddress: callerAddress,
    host: original.host,
    secure: false,
    method: original.method,
    startedAt: deps.timers.now(),
    trace: traceContextFor(undefined, undefined, deps.sampleNewTraces === true),
  };
  const caller = new ViewerPresence();
  const leave = (): void => caller.leave();
  if (signal?.aborted === true) caller.leave();
  signal?.addEventListener('abort', leave, { once: true });
  try {
    // Waits through a reconnect grace like a viewer's request; whoever binds the name then
    // is checked again, since that is whose origin would get it.
    const opened = await openTunnelStream(deps, request, caller);
    if (opened.target.userId !== original.userId) {
      opened.stream.reset(
        new TunnelError('TUN_ERR_STREAM_CANCELLED', 'not the owner of the replayed request'),
      );
      throw servedByAnother(name);
    }
    return await new Replay(deps, original, request, opened.stream, arrivedAt, signal).run();
  } finally {
    signal?.removeEventListener('abort', leave);
  }
}

function servedByAnother(name: string): TunnelError {
  return new TunnelError('TUN_ERR_REPLAY_UNAVAILABLE', `${name} is now served by another user`);
}

class Replay {
  private openedAt = Number.NaN;
  private headAt = Number.NaN;
  private originMs: number | null = null;
  private status = 0;
  private errorCode: string | null = null;
  private bytesOut = 0;
  private responseHeaders: string[] = [];
  private readonly body: BodyCapture | null;
  private readonly options: RecordOptions;

  constructor(
    private readonly deps: ReplayDeps,
    private readonly original: RequestRecord,
    private readonly request: TunnelRequest,
    private readonly stream: MuxStream,
    private readonly arrivedAt: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.options = deps.recordOptions ?? DEFAULT_RECORD_OPTIONS;
    const capture = request.policy?.capture ?? null;
    this.body = capture?.bodies === true ? new BodyCapture(capture.maxBytes) : null;
  }

  run(): Promise<ReplayResult> {
    return new Promise<ReplayResult>((resolve) => {
      const { stream, deps } = this;
      let timer: unknown = null;
      const arm = (ms: number, err: () => TunnelError): void => {
        deps.timers.clearTimeout(timer);
        timer = deps.timers.setTimeout(() => {
          const failure = err();
          stream.reset(failure);
          done(failure);
        }, ms);
      };
      let settled = false;
      // Assigned below; `done` takes it off the caller's signal.
      let abandon = (): void => undefined;
      const done = (err: TunnelError | null): void => {
        if (settled) return;
        settled = true;
        this.signal?.removeEventListener('abort', abandon);
        deps.timers.clearTimeout(timer);
        deps.timers.clearTimeout(deadline);
        if (err !== null) this.errorCode = err.code;
        resolve(this.finish());
      };
      stream.on('head', (head: ResponseHead) => {
        this.headAt = deps.stopwatch();
        this.originMs = head.originMs ?? null;
        this.status = head.status;
        this.responseHeaders = head.headers;
        arm(deps.responseIdleMs, () => idleError(deps.responseIdleMs));
      });
      stream.on('data', (chunk: Buffer) => {
        this.bytesOut += chunk.length;
        this.body?.add(chunk);
        arm(deps.responseIdleMs, () => idleError(deps.responseIdleMs));
      });
      stream.on('end', () => done(null));
      stream.on('reset', (err: TunnelError) => done(err));
      arm(deps.requestTimeoutMs, () => answerTimeout(deps.requestTimeoutMs));
      // The whole replay, body included, within the request timeout: a replayed GET of a
      // stream (SSE, a long download) must not hold the API call and a tunnel stream for good.
      const deadline = deps.timers.setTimeout(() => {
        const failure = new TunnelError(
          'TUN_ERR_RESPONSE_TIMEOUT',
          `the replay's answer did not end within ${Math.round(deps.requestTimeoutMs / 1000)} s`,
        );
        stream.reset(failure);
        done(failure);
      }, deps.requestTimeoutMs);
      stream.on('close', () => deps.timers.clearTimeout(deadline));
      abandon = (): void => {
        const failure = new TunnelError('TUN_ERR_STREAM_CANCELLED', 'the API caller went away');
        stream.reset(failure);
        done(failure);
      };
      if (this.signal?.aborted === true) abandon();
      else this.signal?.addEventListener('abort', abandon, { once: true });
      try {
        this.send();
      } catch (err) {
        const failure = toTunnelError(err);
        stream.reset(failure);
        done(failure);
      }
    });
  }

  /** OPEN with the recorded head (redacted values left out), then the captured body. */
  private send(): void {
    const { original, request, stream } = this;
    const recorded = original.capture?.requestHeaders ?? [];
    const headers: string[] = [];
    for (let i = 0; i + 1 < recorded.length; i += 2) {
      // `***` is what redaction left: the real value is gone, and sending the stars would be a lie.
      if (recorded[i + 1] === '***' && this.options.redactHeaders.has(recorded[i]!.toLowerCase())) continue;
      headers.push(recorded[i]!, recorded[i + 1]!);
    }
    const edited = request.policy === null ? headers : request.policy.requestHeaders.apply(headers);
    const body = original.capture?.requestBody ?? null;
    stream.open(
      {
        tunnel: request.route.name,
        method: request.method,
        path: request.route.path,
        headers: [
          ...requestHeadersForAgent(edited, {
            remoteAddress: request.clientAddress,
            proto: this.deps.proto,
            host: request.host,
            requestId: request.requestId,
            prefix: null,
            trace: request.trace,
          }),
          // After the edge's own headers: a viewer's copy of it was stripped with theirs.
          REPLAY_HEADER,
          original.id,
        ],
        remoteAddress: request.clientAddress,
        requestId: request.requestId,
      },
      { fin: body === null || body.length === 0, upgrade: false },
    );
    this.openedAt = this.deps.stopwatch();
    // The one pipe primitive, under the stream's credit window like a viewer's upload.
    if (body !== null && body.length > 0)
      pumpIntoStream(Readable.from([body], { objectMode: false }), stream);
  }

  private finish(): ReplayResult {
    const { original, request, deps } = this;
    const capture: RequestCapture | null =
      original.capture === null && this.body === null
        ? null
        : {
            requestHeaders: original.capture?.requestHeaders ?? [],
            requestBody: original.capture?.requestBody ?? null,
            requestBodyTruncated: false,
            responseHeaders: redactedHeaders(this.responseHeaders, this.options.redactHeaders),
            responseBody: this.body?.bytes() ?? null,
            responseBodyTruncated: this.body?.truncated ?? false,
          };
    const record: RequestRecord = {
      id: request.requestId,
      tunnel: request.route.name,
      userId: original.userId,
      startedAt: new Date(request.startedAt),
      method: request.method,
      path: original.path,
      host: original.host,
      status: this.status,
      upgrade: false,
      bytesIn: original.capture?.requestBody?.length ?? 0,
      bytesOut: this.bytesOut,
      clientAddress: request.clientAddress,
      traceId: request.trace.traceId,
      trace: request.trace,
      errorCode: this.errorCode,
      timing: recordTiming(
        { arrivedAt: this.arrivedAt, openedAt: this.openedAt, headAt: this.headAt, originMs: this.originMs },
        deps.stopwatch(),
      ),
      replayOf: original.id,
      capture,
    };
    deps.observer?.record(record);
    return { id: record.id, status: this.status, errorCode: this.errorCode };
  }
}

function answerTimeout(ms: number): TunnelError {
  return new TunnelError(
    'TUN_ERR_ORIGIN_TIMEOUT',
    `the local service did not answer the replay within ${Math.round(ms / 1000)} s`,
  );
}

function idleError(ms: number): TunnelError {
  return new TunnelError('TUN_ERR_RESPONSE_TIMEOUT', `no response body bytes for ${ms} ms`);
}
