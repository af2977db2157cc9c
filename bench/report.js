/**
 * Result rows and their table: each row is one figure measured directly against the
 * origin and through the tunnel, the ratio tunnel/direct, and the target it is held to.
 *
 * Units: MB = 10^6 bytes, KB = 10^3 bytes, ms = milliseconds.
 *
 * @typedef {{ kind: 'ratio' | 'tunnel', op: '>=' | '<=', value: number }} Target
 * @typedef {{ scenario: string, metric: string, unit: string, direct: number | null, tunnel: number,
 *   ratio: number | null, target: Target | null, met: boolean | null, note?: string }} Row
 */

/**
 * Builds a row; the ratio is tunnel/direct, and `met` is judged on the ratio or on the
 * tunnel figure as the target says (null without a target).
 * @param {{ scenario: string, metric: string, unit: string, direct?: number | null, tunnel: number,
 *   target?: Target | null, note?: string }} r
 * @returns {Row}
 */
export function row(r) {
  const direct = r.direct ?? null;
  const ratio = direct !== null && direct !== 0 ? r.tunnel / direct : null;
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

/**
 * @param {Row[]} rows
 * @returns {string}
 */
export function formatTable(rows) {
  const header = ['metric', 'direct', 'tunnel', 'ratio', 'target', 'met'];
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
      formatValue(r.tunnel, r.unit),
      r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`,
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
