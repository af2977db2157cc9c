/**
 * Codec micro-benchmarks: encodeFrame and FrameDecoder from @burrow/protocol (the built
 * dist), for 16-byte and 64 KiB payloads. The decoder is fed two ways: chunks that hold
 * whole frames (payloads are views, no copy) and fixed 16 KiB chunks that split frames
 * (the straddling path, which copies).
 *
 *   node bench/codec.js [--quick] [--json]
 *
 * Figures: frames/s and MB/s of payload (MB = 10^6 bytes), median of 5 timed rounds after
 * a warm-up round.
 */

import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { median } from './load.js';
import { ROOT } from './processes.js';

const { encodeFrame, FrameDecoder, FrameType } = await import(
  pathToFileURL(join(ROOT, 'packages/protocol/dist/index.js')).href
);

const quick = process.argv.includes('--quick');
const roundMs = quick ? 100 : 500;
const ROUNDS = 5;

/**
 * Runs `batch` (which handles `framesPerBatch` frames) repeatedly for `roundMs`; returns frames/s.
 * @param {() => void} batch
 * @param {number} framesPerBatch
 */
function rate(batch, framesPerBatch) {
  let frames = 0;
  const start = performance.now();
  let now = start;
  while (now - start < roundMs) {
    batch();
    frames += framesPerBatch;
    now = performance.now();
  }
  return (frames * 1000) / (now - start);
}

/**
 * @param {() => void} batch
 * @param {number} framesPerBatch
 */
function measure(batch, framesPerBatch) {
  rate(batch, framesPerBatch);
  return median(Array.from({ length: ROUNDS }, () => rate(batch, framesPerBatch)));
}

/** @type {{ case: string, payloadBytes: number, framesPerS: number, mbPerS: number }[]} */
const results = [];
let sink = 0;

for (const size of [16, 64 * 1024]) {
  const payload = Buffer.alloc(size, 0xab);
  const perBatch = size === 16 ? 1000 : 16;

  const encodeRate = measure(() => {
    for (let i = 0; i < perBatch; i++) sink ^= encodeFrame(FrameType.DATA, 0, (i << 1) | 1, payload).length;
  }, perBatch);
  results.push({
    case: 'encodeFrame',
    payloadBytes: size,
    framesPerS: encodeRate,
    mbPerS: (encodeRate * size) / 1e6,
  });

  const wire = Buffer.concat(
    Array.from({ length: perBatch }, (_, i) => encodeFrame(FrameType.DATA, 0, i * 2 + 1, payload)),
  );
  const decoder = new FrameDecoder({
    maxPayload: 16 * 1024 * 1024,
    onFrame: (/** @type {{ payload: Buffer }} */ frame) => {
      sink ^= frame.payload.length;
    },
  });
  const wholeRate = measure(() => decoder.push(wire), perBatch);
  results.push({
    case: 'FrameDecoder, whole frames per chunk',
    payloadBytes: size,
    framesPerS: wholeRate,
    mbPerS: (wholeRate * size) / 1e6,
  });

  const pieces = [];
  for (let off = 0; off < wire.length; off += 16 * 1024) pieces.push(wire.subarray(off, off + 16 * 1024));
  const splitRate = measure(() => {
    for (const piece of pieces) decoder.push(piece);
  }, perBatch);
  results.push({
    case: 'FrameDecoder, 16 KiB chunks',
    payloadBytes: size,
    framesPerS: splitRate,
    mbPerS: (splitRate * size) / 1e6,
  });
}

if (sink === 0.5) process.stdout.write('unreachable\n'); // keeps `sink` observable

if (process.argv.includes('--json')) {
  process.stdout.write(
    `${JSON.stringify({ node: process.version, roundMs, rounds: ROUNDS, results }, null, 2)}\n`,
  );
} else {
  const fmt = (/** @type {number} */ n, /** @type {number} */ digits) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits });
  process.stdout.write(
    `codec micro-benchmarks, node ${process.version}, median of ${ROUNDS} × ${roundMs} ms\n`,
  );
  process.stdout.write(
    `${'case'.padEnd(40)}${'payload'.padStart(9)}${'frames/s'.padStart(14)}${'MB/s'.padStart(10)}\n`,
  );
  for (const r of results) {
    const payload = r.payloadBytes >= 1024 ? `${r.payloadBytes / 1024} KiB` : `${r.payloadBytes} B`;
    process.stdout.write(
      `${r.case.padEnd(40)}${payload.padStart(9)}${fmt(r.framesPerS, 0).padStart(14)}${fmt(r.mbPerS, 1).padStart(10)}\n`,
    );
  }
}
