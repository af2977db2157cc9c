/**
 * Writes docs/openapi.json from the built edge (`npm run build` first), so the document in
 * the repository is the one the edge serves at /api/v1/openapi.json. A test fails when they
 * differ; run `npm run docs:openapi` to refresh it.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPENAPI_DOCUMENT } from '../packages/edge/dist/api/openapi.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
writeFileSync(join(root, 'docs/openapi.json'), `${JSON.stringify(OPENAPI_DOCUMENT, null, 2)}\n`);
