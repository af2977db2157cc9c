import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realTimers } from '@burrow/protocol';
import { useScratchDir } from '../../../../test/support/scratch-dir.js';
import { createLogger } from '../logger.js';
import { startCertificateSources } from './certificate-sources.js';
import { createTestCa } from './test-support/test-ca.js';

const scratch = useScratchDir('burrow-cert-sources-');
const deps = { log: createLogger('silent'), timers: realTimers };

describe('startCertificateSources', () => {
  it('has an empty book and no file source when nothing is configured', async () => {
    const sources = await startCertificateSources(
      {
        domain: 'tunnel.test',
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
        dataDir: join(scratch.path, 'data'),
        tls: { certFile: leaf.certFile!, keyFile: leaf.keyFile!, generate: 'self-signed' },
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
