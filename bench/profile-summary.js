/**
 * Summarises a V8 .cpuprofile: self time by function and by area (our packages, ws,
 * node internals, GC, idle), and inclusive time of the heaviest functions of our code.
 *
 * Usage: node bench/profile-summary.js <file.cpuprofile> [--top N]
 * Also imported by run.js, which prints the summary after a `--profile` run.
 */

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number },
 *   hitCount?: number, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples?: number[], timeDeltas?: number[], startTime: number, endTime: number }} Profile
 */

/** @param {string} url */
export function areaOf(url) {
  if (url === '') return 'native/vm';
  const pkg = /packages\/(\w+)\/dist\/(.*)$/.exec(url);
  if (pkg) return `@burrow/${pkg[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return /** @type {string} */ (mod[1]);
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** @param {ProfileNode} node */
function label(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  const name = functionName || '(anonymous)';
  return url ? `${name} ${file}:${lineNumber + 1}` : name;
}

/**
 * @param {Profile} profile
 * @param {number} top
 */
export function summarizeProfile(profile, top = 15) {
  const totalUs = profile.endTime - profile.startTime;
  const samples = profile.samples ?? [];
  const sampleCount = samples.length || profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const usPerSample = sampleCount > 0 ? totalUs / sampleCount : 0;
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  /** @type {Map<string, number>} */
  const selfByFn = new Map();
  /** @type {Map<string, number>} */
  const selfByArea = new Map();
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  let idle = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const name = n.callFrame.functionName;
    const area = name === '(idle)' ? 'idle' : name === '(garbage collector)' ? 'GC' : areaOf(n.callFrame.url);
    if (area === 'idle') idle += hits;
    selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + hits);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + hits);
    // Inclusive time: credit each distinct function on the stack once.
    /** @type {Set<string>} */
    const seen = new Set();
    for (let id = /** @type {number | undefined} */ (n.id); id !== undefined; id = parent.get(id)) {
      const frame = /** @type {ProfileNode} */ (byId.get(id));
      if (!frame.callFrame.url.includes('/packages/')) continue;
      const l = label(frame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + hits);
    }
  }
  const busy = sampleCount - idle;
  /** @param {Map<string, number>} m */
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({
        name,
        ms: Math.round((hits * usPerSample) / 1000),
        pctOfBusy: busy > 0 ? Math.round((1000 * hits) / busy) / 10 : 0,
      }));
  return {
    wallMs: Math.round(totalUs / 1000),
    busyMs: Math.round((busy * usPerSample) / 1000),
    byArea: rank(selfByArea),
    selfTop: rank(selfByFn).filter((r) => r.name !== '(idle)'),
    inclusiveTop: rank(inclusive),
  };
}

/** @param {ReturnType<typeof summarizeProfile>} s */
export function formatSummary(s) {
  /** @param {{ name: string, ms: number, pctOfBusy: number }[]} rows */
  const table = (rows) =>
    rows
      .map((r) => `  ${String(r.pctOfBusy).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`)
      .join('\n');
  return [
    `wall ${s.wallMs} ms, busy (not idle) ${s.busyMs} ms; percentages are of busy time`,
    'self time by area:',
    table(s.byArea),
    'self time by function:',
    table(s.selfTop),
    'inclusive time, functions of @burrow packages:',
    table(s.inclusiveTop),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [--top N]\n');
    process.exit(2);
  }
  const topFlag = process.argv.indexOf('--top');
  const top = topFlag === -1 ? 15 : Number(process.argv[topFlag + 1]);
  const profile = /** @type {Profile} */ (JSON.parse(readFileSync(file, 'utf8')));
  process.stdout.write(`${formatSummary(summarizeProfile(profile, top))}\n`);
}
