/**
 * Result rows and their table: each row is one figure measured directly against the
 * origin, through the references (nginx, ssh -R) when they ran, and through the tunnel
 * (Burrow), each with its ratio to direct, and the target Burrow is held to.
 *
 * Units: MB = 10^6 bytes, KB = 10^3 bytes, ms = milliseconds.
 *
 * @typedef {{ kind: 'ratio' | 'tunnel', op: '>=' | '<=', value: number }} Target
 * @typedef {{ value: number, ratio: number | null }} RefFigure
 * @typedef {{ scenario: string, metric: string, unit: string, direct: number | null, tunnel: number,
 *   ratio: number | null, refs: Record<string, RefFigure>, target: Target | null, met: boolean | null,
 *   note?: string }} Row
 */

import { REFERENCES } from './references.js';

/** @param {number} value @param {number | null} direct */
const ratioTo = (value, direct) => (direct !== null && direct !== 0 ? value / direct : null);

/**
 * Builds a row; each ratio is figure/direct, and `met` is judged on Burrow's ratio or on
 * Burrow's figure as the target says (null without a target). `refs` holds the figures of
 * the references that ran (nginx, ssh), keyed as in REFERENCES.
 * @param {{ scenario: string, metric: string, unit: string, direct?: number | null, tunnel: number,
 *   refs?: Record<string, number | undefined>, target?: Target | null, note?: string }} r
 * @returns {Row}
 */
export function row(r) {
  const direct = r.direct ?? null;
  const ratio = ratioTo(r.tunnel, direct);
  /** @type {Record<string, RefFigure>} */
  const refs = {};
  for (const [key, value] of Object.entries(r.refs ?? {})) {
    if (value !== undefined) refs[key] = { value, ratio: ratioTo(value, direct) };
  }
  const target = r.target ?? null;
  let met = null;
  if (target) {
    const subject = target.kind === 'ratio' ? ratio : r.tunnel;
    met =
      subject === null || !Number.isFinite(subject)
        ? false
        : target.op === '>='
          ? subject >= target.value
          : subject <= target.value;
  }
  return {
    scenario: r.scenario,
    metric: r.metric,
    unit: r.unit,
    direct,
    tunnel: r.tunnel,
    ratio,
    refs,
    target,
    met,
    note: r.note,
  };
}

/** @param {number | null} v @param {string} unit */
export function formatValue(v, unit) {
  if (v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

/** @param {Target | null} t @param {string} unit */
function formatTarget(t, unit) {
  if (!t) return '';
  const op = t.op === '>=' ? '≥' : '≤';
  return t.kind === 'ratio' ? `${op} ${t.value}×` : `${op} ${formatValue(t.value, unit)}`;
}

/** @param {number | null} ratio */
const formatRatio = (ratio) => (ratio === null || !Number.isFinite(ratio) ? '' : `${ratio.toFixed(2)}×`);

/**
 * The table: per figure, direct, then each reference that appears in `rows` and Burrow,
 * each followed by its ratio to direct; then Burrow's target and whether it is met.
 * @param {Row[]} rows
 * @returns {string}
 */
export function formatTable(rows) {
  const refs = REFERENCES.filter(([key]) => rows.some((r) => r.refs?.[key] !== undefined));
  const header = [
    'metric',
    'direct',
    ...refs.flatMap(([, label]) => [label, '×direct']),
    'burrow',
    '×direct',
    'target',
    'met',
  ];
  /** @type {string[][]} */
  const lines = [];
  /** @type {(string | null)[]} */
  const groups = [];
  let scenario = '';
  for (const r of rows) {
    if (r.scenario !== scenario) {
      scenario = r.scenario;
      groups.push(scenario);
      lines.push([]);
    }
    lines.push([
      `  ${r.metric}`,
      formatValue(r.direct, r.unit),
      ...refs.flatMap(([key]) => {
        const f = r.refs?.[key];
        return f ? [formatValue(f.value, r.unit), formatRatio(f.ratio)] : ['', ''];
      }),
      formatValue(r.tunnel, r.unit),
      formatRatio(r.ratio),
      formatTarget(r.target, r.unit),
      r.met === null ? '' : r.met ? 'met' : 'NOT MET',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  /** @param {string[]} cells */
  const fmt = (cells) =>
    cells
      .map((c, i) =>
        i === 0 ? c.padEnd(/** @type {number} */ (widths[i])) : c.padStart(/** @type {number} */ (widths[i])),
      )
      .join('  ')
      .trimEnd();
  let g = 0;
  return [fmt(header), ...lines.map((l) => (l.length === 0 ? `${groups[g++]}` : fmt(l)))].join('\n');
}
