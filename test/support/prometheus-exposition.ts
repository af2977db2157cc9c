/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests that
 * must prove a render is valid, not just readable (prometheus-text.ts reads leniently). It
 * throws on the first violation of: line syntax (labels, escapes, values; no timestamps),
 * `# HELP`/`# TYPE` at most once per family and before its samples, a family's samples in
 * one contiguous run, sample names that belong to their family (`_bucket`/`_sum`/`_count`
 * for histograms), duplicate label names or series, negative or non-finite counters, and
 * histogram series (`le` strictly ascending and ending in `+Inf`, cumulative counts that
 * never fall, `+Inf` equal to `_count`, `_sum` and `_count` present).
 */

import type { PromSample } from './prometheus-text.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Family {
  name: string;
  help: string | null;
  type: FamilyType;
  samples: PromSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const HEADER = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`);
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

function fail(line: number, why: string, text: string): never {
  throw new Error(`exposition line ${line}: ${why}: ${text}`);
}

function parseValue(text: string): number | null {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : null;
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const match = LABEL.exec(rest);
    if (match === null) fail(line, 'bad label text', text);
    const [whole, name, raw, comma] = match;
    if (Object.hasOwn(labels, name!)) fail(line, `label ${name} twice`, text);
    labels[name!] = raw!.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
    if (comma === ',' && rest === '') fail(line, 'trailing comma', text);
  }
  return labels;
}

/** The family a sample name belongs to, given the family whose lines are running. */
function familyOf(sample: string, current: Family | null): string {
  if (current?.type === 'histogram') {
    for (const suffix of HISTOGRAM_SUFFIXES) if (sample === current.name + suffix) return current.name;
  }
  return sample;
}

function seriesKey(name: string, labels: Record<string, string>, omit?: string): string {
  const pairs = Object.entries(labels)
    .filter(([k]) => k !== omit)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `${name}${JSON.stringify(pairs)}`;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { les: number[]; counts: number[]; sum?: number; count?: number }>();
  const group = (labels: Record<string, string>) => {
    const key = seriesKey('', labels, 'le');
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { les: [], counts: [] }));
    return g;
  };
  for (const s of family.samples) {
    if (s.name.endsWith('_bucket')) {
      const le = s.labels.le === undefined ? null : parseValue(s.labels.le);
      if (le === null || Number.isNaN(le)) throw new Error(`${family.name}: bucket without a valid le`);
      const g = group(s.labels);
      g.les.push(le);
      g.counts.push(s.value);
    } else if (s.name.endsWith('_sum')) group(s.labels).sum = s.value;
    else group(s.labels).count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.les.length === 0 || g.les.at(-1) !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.les.length; i++) {
      if (!(g.les[i]! > g.les[i - 1]!)) throw new Error(`${where}: le not strictly ascending`);
      if (g.counts[i]! < g.counts[i - 1]!) throw new Error(`${where}: cumulative count falls`);
    }
    if (g.sum === undefined || g.count === undefined) throw new Error(`${where}: _sum or _count missing`);
    if (g.counts.at(-1) !== g.count) throw new Error(`${where}: +Inf bucket is not _count`);
  }
}

/** Every family of `text`, in order of appearance; throws on the first violation. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('exposition does not end in a line feed');
  const open = (name: string, line: number, raw: string): Family => {
    if (current?.name === name) return current;
    if (families.has(name)) fail(line, `family ${name} again after another family`, raw);
    current = { name, help: null, type: 'untyped', samples: [] };
    families.set(name, current);
    return current;
  };
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const header = HEADER.exec(raw);
      if (header === null) fail(line, 'a comment that is neither HELP nor TYPE', raw);
      const [, kind, name, rest = ''] = header;
      const family = open(name!, line, raw);
      if (family.samples.length > 0) fail(line, `${kind} after the family's samples`, raw);
      if (kind === 'HELP') {
        if (family.help !== null) fail(line, 'a second HELP', raw);
        family.help = rest;
      } else {
        if (family.type !== 'untyped' || !TYPES.has(rest)) fail(line, 'a second or unknown TYPE', raw);
        family.type = rest as FamilyType;
      }
      return;
    }
    const match = SAMPLE.exec(raw);
    if (match === null) fail(line, 'not a sample line', raw);
    const [, name, labelText = '', valueText] = match;
    const value = parseValue(valueText!);
    if (value === null) fail(line, 'bad value', raw);
    const labels = parseLabels(labelText, line);
    const family = open(familyOf(name!, current), line, raw);
    if (family.type === 'histogram' && name!.endsWith('_bucket') !== Object.hasOwn(labels, 'le'))
      fail(line, 'le on a line that is not a bucket, or a bucket without it', raw);
    if (family.type === 'counter' && !(value >= 0 && Number.isFinite(value)))
      fail(line, 'a counter that is negative or not finite', raw);
    const key = seriesKey(name!, labels);
    if (series.has(key)) fail(line, 'a duplicate series', raw);
    series.add(key);
    family.samples.push({ name: name!, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}
