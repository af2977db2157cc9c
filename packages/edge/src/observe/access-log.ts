/**
 * One line per finished tunnel request (`accessLog`): `json`, a pino line at info with the
 * record's fields (captured headers and bodies left out), or `combined`, the Apache/nginx
 * combined format for existing log tooling, written to the logger's destination as it is.
 * Both are info lines: with the log level above info neither is written.
 *
 * The record keeps neither Referer, User-Agent nor the viewer's HTTP version (it is stored
 * for every request, and they would grow every row): `combined` writes `-` for the first two
 * and `HTTP/1.1` in the request line.
 */

import { pino, type Logger } from 'pino';
import type { AccessLogFormat } from '../config/index.js';
import type { RequestRecord } from '../store/request-records.js';
import type { RequestObserver } from './request-observer.js';

/** Where combined lines go: one call per line, the newline included. */
export type LineSink = (line: string) => void;

/** Where the logger writes (pino's destination), so access lines share stdout with the logs, in order. */
function destinationOf(log: Logger): { write(text: string): unknown } {
  const stream = (log as unknown as Record<symbol, { write(text: string): unknown } | undefined>)[
    pino.symbols.streamSym
  ];
  if (stream === undefined) throw new TypeError('the logger has no destination stream');
  return stream;
}

/** The logger's own destination as a line sink. */
export function loggerSink(log: Logger): LineSink {
  const stream = destinationOf(log);
  return (line) => {
    stream.write(line);
  };
}

/** The access log for `format`, or null when it is off. */
export function createAccessLog(format: AccessLogFormat, log: Logger): RequestObserver | null {
  if (format === 'off') return null;
  if (format === 'json') return new JsonAccessLog(log);
  return new CombinedAccessLog(loggerSink(log), log);
}

/**
 * The pino line, written straight to the logger's destination: the same envelope pino writes
 * (level, time, bindings, `msg`), the record's fields serialized by one `JSON.stringify`. This
 * runs once per request; pino's own call path (redaction, serializers, hooks, for fields a
 * record never has) cost about twice as much per line.
 */
export class JsonAccessLog implements RequestObserver {
  private readonly stream: { write(text: string): unknown };
  private readonly time: () => string;
  private readonly level: number;

  constructor(private readonly log: Logger) {
    const internals = log as unknown as Record<symbol, unknown>;
    this.stream = destinationOf(log);
    this.time = internals[pino.symbols.timeSym] as () => string;
    this.level = log.levels.values.info!;
  }

  record(r: RequestRecord): void {
    if (!this.log.isLevelEnabled('info')) return;
    const fields = JSON.stringify({
      id: r.id,
      tunnel: r.tunnel,
      userId: r.userId,
      startedAt: r.startedAt,
      method: r.method,
      path: r.path,
      host: r.host,
      status: r.status,
      upgrade: r.upgrade,
      bytesIn: r.bytesIn,
      bytesOut: r.bytesOut,
      clientAddress: r.clientAddress,
      traceId: r.traceId,
      errorCode: r.errorCode,
      timing: r.timing,
      replayOf: r.replayOf,
    });
    const bindings = (this.log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
    this.stream.write(
      `{"level":${this.level}${this.time()}${bindings},${fields.slice(1, -1)},"msg":"request"}\n`,
    );
  }
}

/** Written at info like the json lines: a log level above info silences it too. */
export class CombinedAccessLog implements RequestObserver {
  constructor(
    private readonly sink: LineSink,
    private readonly log: Logger,
  ) {}

  record(r: RequestRecord): void {
    if (!this.log.isLevelEnabled('info')) return;
    this.sink(combinedLine(r));
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `10/Oct/2000:13:55:36 +0000`: Apache's `%t`, in UTC. */
export function clfTime(date: Date): string {
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]!}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/** `"` and `\` escaped, controls as `\xHH`, as Apache escapes `%r`: a log line stays one line. */
function quoted(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/["\\\u0000-\u001f\u007f]/g, (c) =>
    c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * `%h - %u [%t] "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, newline included: `%u` is `-`
 * (the record has no user name), `%b` is `-` for no body, status 0 when the viewer got none,
 * `%r` is `-` when no request was read (a refused connection, a malformed head), as Apache writes it.
 */
export function combinedLine(r: RequestRecord): string {
  const bytes = r.bytesOut === 0 ? '-' : String(r.bytesOut);
  const line = r.method === '' ? '-' : `${quoted(r.method)} ${quoted(r.path)} HTTP/1.1`;
  return `${r.clientAddress} - - [${clfTime(r.startedAt)}] "${line}" ${r.status} ${bytes} "-" "-"\n`;
}
