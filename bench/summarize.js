/**
 * Medians over several result files of `npm run bench`: for each row, the median direct
 * figure, the median tunnel figure and the median of the per-run ratios, with the target
 * judged on those medians (the targets are stated as medians of ratios).
 *
 *   node bench/summarize.js bench/results/A.json bench/results/B.json [...] [--markdown]
 */

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { median } from './load.js';
import { formatTable, formatValue } from './report.js';

/** @typedef {import('./report.js').Row} Row */

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  process.stderr.write('usage: node bench/summarize.js <result.json>... [--markdown]\n');
  process.exit(2);
}

/** @type {Map<string, Row[]>} */
const byKey = new Map();
for (const file of files) {
  const { rows } = /** @type {{ rows: Row[] }} */ (JSON.parse(readFileSync(file, 'utf8')));
  for (const r of rows) {
    // Scenario titles carry sizes and counts, so runs of different modes never mix.
    const key = `${r.scenario}\u0000${r.metric}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
}

/** @type {Row[]} */
const rows = [];
for (const runs of byKey.values()) {
  const first = /** @type {Row} */ (runs[0]);
  const directs = runs.map((r) => r.direct).filter((v) => v !== null);
  const ratios = runs.map((r) => r.ratio).filter((v) => v !== null);
  const direct = directs.length > 0 ? median(directs) : null;
  const tunnel = median(runs.map((r) => r.tunnel));
  const ratio = ratios.length > 0 ? median(ratios) : null;
  const t = first.target;
  let met = null;
  if (t) {
    const subject = t.kind === 'ratio' ? ratio : tunnel;
    met =
      subject !== null &&
      Number.isFinite(subject) &&
      (t.op === '>=' ? subject >= t.value : subject <= t.value);
  }
  rows.push({ ...first, scenario: `${first.scenario} [${runs.length} runs]`, direct, tunnel, ratio, met });
}

if (process.argv.includes('--markdown')) {
  const out = [
    '| scenario | metric | direct | tunnel | ratio | target | met |',
    '|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const target = r.target
      ? `${r.target.op === '>=' ? '≥' : '≤'} ${r.target.kind === 'ratio' ? `${r.target.value}×` : formatValue(r.target.value, r.unit)}`
      : '';
    out.push(
      `| ${r.scenario} | ${r.metric} | ${formatValue(r.direct, r.unit)} | ${formatValue(r.tunnel, r.unit)} | ${
        r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`
      } | ${target} | ${r.met === null ? '' : r.met ? 'met' : '**not met**'} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
} else {
  process.stdout.write(`${formatTable(rows)}\n`);
}
