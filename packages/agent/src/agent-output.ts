/**
 * What the agent tells its user, and the two ways to say it.
 *
 * Text (default): stdout carries results only — each public URL alone on its line, then one
 * line per finished request (`GET /path 200 12ms`) — so `burrow http 3000 | head -1` yields
 * the URL; status (connecting, reconnecting, errors) goes to stderr. Colour only when asked
 * for (the CLI asks when stdout is a TTY).
 *
 * JSON (`--log json`): one JSON object per line, all on stdout, nothing on stderr.
 *
 * Neither ever shows a credential: the token, basic-auth passwords and the tunnel token stay
 * out of the access summary (access-summary.ts), out of request paths (request-log.ts) and
 * out of the edge's refusals (policy-refusal.ts).
 */

import type { TunnelError } from '@burrow/protocol';
import type { RetryInfo } from './reconnect.js';
import { formatRequestLine, printable, requestEvent, type RequestRecord } from './request-log.js';
import type { BoundTunnel } from './tunnel-binder.js';

export interface ConnectedEvent {
  readonly sessionId: string;
  /** False for the first session of the agent. */
  readonly reconnected: boolean;
}

/** Receives every user-visible event of an agent; implementations must not throw. */
export interface AgentOutput {
  /** The first connection attempt starts (retries are announced by `reconnecting`). */
  connecting(server: URL): void;
  connected(event: ConnectedEvent): void;
  /** A tunnel got a URL it did not have before (first bind, or the edge changed it). */
  tunnel(tunnel: BoundTunnel): void;
  request(record: RequestRecord): void;
  reconnecting(info: RetryInfo): void;
  /** Graceful shutdown began; `inFlight` requests get up to `timeoutMs` to finish. */
  stopping(inFlight: number, timeoutMs: number): void;
  /** The agent stopped because of `err`; `explanation` is a full sentence for people. */
  error(err: TunnelError, explanation?: string): void;
  /** `--metrics-listen`: Prometheus can scrape `url`. */
  metricsListening?(url: string): void;
}

/** Where output goes; process.stdout fits. */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface TextOutputOptions {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** ANSI colour on request statuses; the CLI sets it only for a TTY. */
  readonly color?: boolean;
  /**
   * What to do about a failure the agent keeps retrying (the CLI passes its `adviceFor`), so a
   * retried failure only the user can fix (an untrusted edge certificate) says how at once.
   */
  readonly advise?: (err: TunnelError) => string | undefined;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

export function createTextOutput(options: TextOutputOptions): AgentOutput {
  const { stdout, stderr } = options;
  const color = options.color ?? false;
  const status = (line: string): void => void stderr.write(`burrow: ${line}\n`);
  return {
    connecting: (server) => status(`connecting to ${server.origin}`),
    connected: (event) =>
      status(`${event.reconnected ? 'reconnected' : 'connected'} (session ${event.sessionId})`),
    tunnel: (tunnel) => {
      if (tunnel.access.length > 0) status(`tunnel ${tunnel.id}: ${tunnel.access.join(', ')}`);
      status(`tunnel ${tunnel.id} forwards to ${tunnel.origin}, public URL:`);
      stdout.write(`${printable(tunnel.url)}\n`);
    },
    request: (record) => void stdout.write(`${formatRequestLine(record, { color })}\n`),
    reconnecting: (info) => {
      const when = info.delayMs === 0 ? 'now' : `in ${seconds(info.delayMs)}`;
      const advice = options.advise?.(info.reason);
      status(
        advice === undefined
          ? `reconnecting ${when} because ${info.reason.message} (attempt ${info.attempt})`
          : `reconnecting ${when} because ${info.reason.message} (${info.reason.code}, attempt ${info.attempt}). ${advice}`,
      );
    },
    stopping: (inFlight, timeoutMs) =>
      status(
        inFlight === 0
          ? 'stopping'
          : `stopping; waiting up to ${seconds(timeoutMs)} for ${inFlight} request${inFlight === 1 ? '' : 's'} in flight`,
      ),
    error: (err, explanation) => status(explanation ?? `${err.message} (${err.code})`),
    metricsListening: (url) => status(`metrics at ${url}`),
  };
}

export function createJsonOutput(options: { readonly stdout: TextSink }): AgentOutput {
  const emit = (event: Record<string, unknown>): void =>
    void options.stdout.write(`${JSON.stringify(event)}\n`);
  return {
    connecting: () => undefined,
    connected: (event) =>
      emit({ event: 'connected', sessionId: event.sessionId, reconnected: event.reconnected }),
    tunnel: (tunnel) =>
      emit({
        event: 'tunnel',
        tunnel: tunnel.id,
        name: tunnel.name,
        url: tunnel.url,
        origin: tunnel.origin,
        ...(tunnel.access.length === 0 ? {} : { access: tunnel.access }),
      }),
    request: (record) => emit(requestEvent(record)),
    reconnecting: (info) =>
      emit({
        event: 'reconnecting',
        attempt: info.attempt,
        delayMs: info.delayMs,
        reason: info.reason.message,
        code: info.reason.code,
      }),
    stopping: () => undefined,
    error: (err) => emit({ event: 'error', code: err.code, message: err.message }),
    metricsListening: (url) => emit({ event: 'metrics', url }),
  };
}

/** Discards everything: for embedding agents (tests, benchmarks) that watch results instead. */
export const silentOutput: AgentOutput = {
  connecting: () => undefined,
  connected: () => undefined,
  tunnel: () => undefined,
  request: () => undefined,
  reconnecting: () => undefined,
  stopping: () => undefined,
  error: () => undefined,
};
