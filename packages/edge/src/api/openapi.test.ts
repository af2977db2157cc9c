import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from './api-deps.js';
import { apiRoutes } from './control-api.js';
import { OPENAPI_DOCUMENT } from './openapi.js';

const ROOT = join(import.meta.dirname, '../../../..');
// Routes are only built here, never called, so their dependencies are never touched.
const routes = apiRoutes({} as ApiDeps);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function documented(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(OPENAPI_DOCUMENT.paths)) {
    if (path === '/openapi.json') continue;
    for (const method of METHODS) if (method in item) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out.sort();
}

describe('OpenAPI document', () => {
  it('documents exactly the routes the API serves', () => {
    expect(documented()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('is the same as docs/openapi.json (run `npm run docs:openapi` after changing it)', () => {
    const file: unknown = JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });

  it('resolves every $ref to a schema it defines', () => {
    const refs = JSON.stringify(OPENAPI_DOCUMENT).match(/#\/components\/schemas\/\w+/g) ?? [];
    const defined = Object.keys(OPENAPI_DOCUMENT.components.schemas);
    for (const ref of new Set(refs)) expect(defined).toContain(ref.split('/').at(-1));
  });
});
