/**
 * A temporary directory for one test file: made before its tests, removed after them.
 * Call at the top level of a test file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface ScratchDir {
  /** The directory; valid once the file's tests run. */
  readonly path: string;
  /** Writes `text` to `name` inside it and returns the file's path. */
  write: (name: string, text: string) => string;
}

export function useScratchDir(prefix: string): ScratchDir {
  let path = '';
  beforeAll(() => {
    path = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(path, { recursive: true, force: true });
  });
  return {
    get path() {
      return path;
    },
    write: (name, text) => {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
  };
}
