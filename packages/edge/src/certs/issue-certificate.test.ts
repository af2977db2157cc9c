import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCa, issueLeaf, validityFor } from './issue-certificate.js';

describe('issueLeaf', () => {
  it('puts IP addresses in the SAN as IP addresses and names as DNS names', async () => {
    const ca = await createCa('Test CA', validityFor(1));
    const leaf = new X509Certificate(
      (await issueLeaf(ca, { names: ['localhost', '127.0.0.1', '::1'] })).certPem,
    );
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });
});
