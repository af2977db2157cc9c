/**
 * A real TLS server that picks its certificate from a `CertificateBook` the way the HTTPS
 * listener does (SNICallback -> select; the default pair for handshakes without SNI), and
 * echoes what it reads; plus a client that reports which certificate it was served.
 */
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { CertificateBook } from '../certificate-book.js';

export interface SniServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startSniServer(book: CertificateBook): Promise<SniServer> {
  const pair = book.defaultMaterial();
  const server: Server = createServer(
    {
      SNICallback: (name, done) => done(null, book.select(name)),
      ...(pair === undefined ? {} : { cert: pair.certPem, key: pair.keyPem }),
    },
    (socket) => socket.pipe(socket),
  );
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Connections a test left open would hold close() forever.
        for (const socket of open) socket.destroy();
      }),
  };
}

/** Opens a TLS connection (any certificate accepted: the test reads which one it got). */
export function openTls(port: number, servername: string | undefined): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

/** The serial number of the certificate a new handshake with this SNI gets. */
export async function servedSerial(port: number, servername: string | undefined): Promise<string> {
  const socket = await openTls(port, servername);
  const serial = socket.getPeerCertificate().serialNumber;
  socket.destroy();
  return serial;
}
