/**
 * A real `EdgeServer` (SQLite in a temp dir, loopback, port 0) and an API key for a test
 * file's control-API calls: started before the file's tests, closed and removed after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadEdgeConfig } from '../../config/index.js';
import { EdgeServer } from '../../server.js';

export interface ApiEdge {
  readonly edge: EdgeServer;
  /** A `Bearer` secret of a key labelled `test`. */
  readonly key: string;
}

/** Registers the start and stop hooks; read the fields inside tests. */
export function useApiEdge(tempPrefix: string): ApiEdge {
  let dir = '';
  let started: ApiEdge | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), tempPrefix));
    const config = loadEdgeConfig({
      flags: { listen: '127.0.0.1:0', domain: 'burrow.test', data: dir, logLevel: 'silent' },
      env: {},
      cwd: dir,
    });
    const edge = await EdgeServer.start({ config });
    started = { edge, key: (await edge.store.createApiKey({ label: 'test' })).secret };
  });
  afterAll(async () => {
    await started?.edge.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (): ApiEdge => {
    if (started === undefined) throw new Error('useApiEdge: read it inside a test, after beforeAll');
    return started;
  };
  return {
    get edge() {
      return get().edge;
    },
    get key() {
      return get().key;
    },
  };
}
