// Bundles each CLI into one ESM file. Loading one file instead of hundreds of modules
// halves start-up time and trims RSS (measured: `burrow --help` 0.35 s / 77 MB -> 0.15 s / 63 MB).
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

// Bundled CommonJS dependencies (ws, undici) call require(); give them one.
const banner =
  "import { createRequire as __burrowRequire } from 'node:module'; const require = __burrowRequire(import.meta.url);";

// Heap sizing (heap-prelude.js) trades CPU for memory. Measured in alternating runs of
// scenario 1 (2 each): without it in the edge, edge CPU per request 75 -> 56-64 us and
// requests/s about +5%, but edge + agent RSS after load 173-183 -> 203-225 MB, level with
// localtunnel's 210 MB; the issue asks for far less than the other Node.js tunnels, so both
// CLIs take it. `tuneHeap: false` is the switch for a CPU-bound edge.
// The OpenTelemetry SDK (span export, off by default) stays out of the bundles: it is imported
// only when an OTLP endpoint is configured, from node_modules like better-sqlite3. Bundled, it
// added 0.73 MB of source to each CLI and about 1 MB RSS to every run that never exports.
// Only dynamic import() of it may appear in the sources (the two otlp-export.ts files): a
// static import of an external package is hoisted and would load it at start-up.
const OTEL = '@opentelemetry/*';

const targets = [
  {
    entry: 'packages/agent/dist/cli/main.js',
    out: 'packages/agent/dist/burrow.mjs',
    external: [OTEL],
    tuneHeap: true,
  },
  // Native addons cannot be bundled; better-sqlite3 loads its .node file itself.
  {
    entry: 'packages/edge/dist/cli/main.js',
    out: 'packages/edge/dist/burrow-edge.mjs',
    external: ['better-sqlite3', OTEL],
    tuneHeap: true,
  },
];

await Promise.all(
  targets.map((t) =>
    build({
      // heap-prelude.js is imported first so its heap sizing is in place before the CLI's
      // modules run (ESM evaluates imports in order).
      stdin: {
        contents: `${t.tuneHeap ? "import './scripts/heap-prelude.js';\n" : ''}import './${t.entry}';\n`,
        resolveDir: ROOT,
        sourcefile: `${t.out}.entry.js`,
      },
      outfile: t.out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: t.external,
      banner: { js: banner },
      logLevel: 'warning',
    }),
  ),
);

// V8 keeps a script's source in memory for its lifetime, two bytes per character if any
// character is outside Latin-1. esbuild already escapes every non-ASCII character in code,
// so the only ones left are in comments (undici's ’, a § or —); replacing them keeps the
// agent's 1.9 MB source at one byte per character (measured: RSS −1.9 MB agent, −1.5 MB edge).
for (const t of targets) {
  const path = resolve(ROOT, t.out);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/[\u0080-\uffff]/g, '?'));
}
