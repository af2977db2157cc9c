import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import { createLogger } from '../logger.js';
import { startCertificateSources } from './certificate-sources.js';
import { createTestCa } from '../../../../test/support/test-ca.js';

const scratch = useScratchDir('burrow-cert-sources-');
const deps = { log: createLogger('silent'), timers: realTimers };

function capture(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

/** Where the edge's HTTPS listener is, for the URLs in the trust commands. */
const HTTPS = {
  httpsListen: { host: '127.0.0.1', port: 8443 },
  publicUrl: { scheme: 'https', port: null },
} as const;

describe('startCertificateSources', () => {
  it('says to use a two-label domain when self-signed runs on a one-label domain like localhost', async () => {
    const { log, lines } = capture();
    await startCertificateSources(
      {
        domain: 'localhost',
        ...HTTPS,
        dataDir: join(scratch.path, 'one-label'),
        tls: { certFile: null, keyFile: null, generate: 'self-signed' },
      },
      { log, timers: realTimers },
    );
    const line = lines.find((l) => typeof l.caFile === 'string');
    expect(String(line?.hint)).toMatch(/--domain dev\.localhost/);
    const { log: log2, lines: lines2 } = capture();
    await startCertificateSources(
      {
        domain: 'dev.localhost',
        ...HTTPS,
        dataDir: join(scratch.path, 'two-labels'),
        tls: { certFile: null, keyFile: null, generate: 'self-signed' },
      },
      { log: log2, timers: realTimers },
    );
    expect(lines2.find((l) => typeof l.caFile === 'string')?.hint).toBeUndefined();
  });

  it('has an empty book and no file source when nothing is configured', async () => {
    const sources = await startCertificateSources(
      {
        domain: 'tunnel.test',
        ...HTTPS,
        dataDir: scratch.path,
        tls: { certFile: null, keyFile: null, generate: 'off' },
      },
      deps,
    );
    expect(sources.book.list()).toEqual([]);
    expect(sources.files).toBeNull();
    expect(sources.book.select(undefined)).toBeUndefined();
  });

  it('serves the file pair where it covers a name and the self-signed leaf elsewhere', async () => {
    const ca = await createTestCa();
    const leaf = await ca.issue({ names: ['shop.tunnel.test'], dir: scratch.path, basename: 'shop' });
    const sources = await startCertificateSources(
      {
        domain: 'tunnel.test',
        ...HTTPS,
        dataDir: join(scratch.path, 'data'),
        tls: { certFile: leaf.certFile, keyFile: leaf.keyFile, generate: 'self-signed' },
      },
      deps,
    );
    try {
      expect(sources.book.entryFor('shop.tunnel.test')).toMatchObject({
        origin: 'file',
        serialNumber: leaf.serialNumber,
      });
      expect(sources.book.entryFor('other.tunnel.test')?.origin).toBe('self-signed');
      // The default is the self-signed leaf: it is the one naming the edge's own domain.
      expect(sources.book.entryFor(undefined)?.origin).toBe('self-signed');
      expect(sources.files?.current?.hosts).toEqual(['shop.tunnel.test']);
    } finally {
      sources.stop();
    }
  });
});
