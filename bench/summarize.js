/**
 * Medians over several result files of `npm run bench`: for each row, the median direct
 * figure, the median figure of each reference (nginx, ssh -R) and of Burrow, and the
 * median of each one's per-run ratios, with Burrow's target judged on those medians (the
 * targets are stated as medians of ratios).
 *
 *   node bench/summarize.js bench/results/A.json bench/results/B.json [...] [--markdown]
 */

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { median } from './load.js';
import { REFERENCES } from './references.js';
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
  /** @type {Row['refs']} */
  const refs = {};
  for (const [key] of REFERENCES) {
    const figures = runs.map((r) => r.refs?.[key]).filter((f) => f !== undefined);
    if (figures.length === 0) continue;
    const refRatios = figures.map((f) => f.ratio).filter((v) => v !== null);
    refs[key] = {
      value: median(figures.map((f) => f.value)),
      ratio: refRatios.length > 0 ? median(refRatios) : null,
    };
  }
  const t = first.target;
  let met = null;
  if (t) {
    const subject = t.kind === 'ratio' ? ratio : tunnel;
    met =
      subject !== null &&
      Number.isFinite(subject) &&
      (t.op === '>=' ? subject >= t.value : subject <= t.value);
  }
  rows.push({
    ...first,
    scenario: `${first.scenario} [${runs.length} runs]`,
    direct,
    tunnel,
    ratio,
    refs,
    met,
  });
}

if (process.argv.includes('--markdown')) {
  const refs = REFERENCES.filter(([key]) => rows.some((r) => r.refs[key] !== undefined));
  /** @param {number | null} v */
  const ratioText = (v) => (v === null || !Number.isFinite(v) ? '' : `${v.toFixed(2)}×`);
  const out = [
    `| scenario | metric | direct | ${refs.map(([, label]) => `${label} | ratio | `).join('')}burrow | ratio | target | met |`,
    `|---|---|---:|${refs.map(() => '---:|---:|').join('')}---:|---:|---|---|`,
  ];
  for (const r of rows) {
    const target = r.target
      ? `${r.target.op === '>=' ? '≥' : '≤'} ${r.target.kind === 'ratio' ? `${r.target.value}×` : formatValue(r.target.value, r.unit)}`
      : '';
    const refCells = refs
      .map(([key]) => {
        const f = r.refs[key];
        return f ? `${formatValue(f.value, r.unit)} | ${ratioText(f.ratio)} | ` : ' |  | ';
      })
      .join('');
    out.push(
      `| ${r.scenario} | ${r.metric} | ${formatValue(r.direct, r.unit)} | ${refCells}${formatValue(r.tunnel, r.unit)} | ${ratioText(
        r.ratio,
      )} | ${target} | ${r.met === null ? '' : r.met ? 'met' : '**not met**'} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
} else {
  process.stdout.write(`${formatTable(rows)}\n`);
}
