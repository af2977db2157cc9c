/**
 * A TLS terminator in front of a plain TCP service, for tests: accepts TLS on a loopback port
 * with the given certificate and pipes the decrypted bytes to `target`. A connection reaches
 * the target only after its handshake succeeded, so `forwarded` counts the clients that
 * trusted the certificate; `handshakeErrors` counts those that did not.
 */
import { connect, type AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

export interface TlsTerminator {
  readonly port: number;
  /** Connections that finished the handshake and were piped to the target. */
  readonly forwarded: number;
  /** Connections that failed the handshake (the client rejected the certificate, or spoke no TLS). */
  readonly handshakeErrors: number;
  close(): Promise<void>;
}

export interface TlsTerminatorOptions {
  readonly cert: string;
  readonly key: string;
  readonly target: { readonly host: string; readonly port: number };
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** Listen port (default 0: any free one); to replace a terminator on the same address. */
  readonly port?: number;
}

export async function startTlsTerminator(options: TlsTerminatorOptions): Promise<TlsTerminator> {
  let forwarded = 0;
  let handshakeErrors = 0;
  const sockets = new Set<{ destroy(): void }>();
  const track = <T extends { destroy(): void; once(event: 'close', fn: () => void): unknown }>(s: T): T => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    return s;
  };
  const server = createServer({ cert: options.cert, key: options.key }, (client: TLSSocket) => {
    forwarded += 1;
    track(client);
    const upstream = track(connect(options.target.port, options.target.host));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.on('tlsClientError', () => {
    handshakeErrors += 1;
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    get forwarded() {
      return forwarded;
    },
    get handshakeErrors() {
      return handshakeErrors;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
