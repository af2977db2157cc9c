/**
 * Proves a certificate the way a viewer would: serves the pair from a real TLS server on
 * loopback and connects with only `rootPem` trusted and `servername` as SNI. Resolves to
 * what the client saw; rejects when verification fails.
 */
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';

export interface TlsProof {
  /** The served leaf's subjectAltName as the client saw it. */
  subjectAltName: string;
  serialNumber: string;
}

export async function connectTrusting(
  material: { certPem: string; keyPem: string },
  rootPem: string,
  servername: string,
): Promise<TlsProof> {
  const server = createServer({ cert: material.certPem, key: material.keyPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<TlsProof>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername, ca: rootPem }, () => {
        const peer = socket.getPeerCertificate();
        socket.end();
        resolve({ subjectAltName: peer.subjectaltname ?? '', serialNumber: peer.serialNumber });
      });
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}
