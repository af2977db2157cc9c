import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../../test/support/prometheus-exposition.js';
import {
  escapeLabelValue,
  familyHeader,
  formatValue,
  HistogramText,
  labelPair,
  sampleLine,
} from './exposition-text.js';
import { HistogramSeries } from './histogram-series.js';

describe('exposition text', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd é_')).toBe('a\\\\b\\"c\\nd é_');
    expect(escapeLabelValue('web')).toBe('web');
    expect(labelPair('tunnel', 'x"y')).toBe('tunnel="x\\"y"');
  });

  it('spells values as Prometheus reads them', () => {
    expect([0, 3, 0.005, 1e21, NaN, Infinity, -Infinity].map(formatValue)).toEqual([
      '0',
      '3',
      '0.005',
      '1e+21',
      'NaN',
      '+Inf',
      '-Inf',
    ]);
  });

  it('writes a histogram series with or without labels: cumulative buckets, +Inf, _sum, _count', () => {
    const series = new HistogramSeries([0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 7]) series.observe(v);
    expect(new HistogramText('h', series.bounds).lines('', series)).toBe(
      'h_bucket{le="0.1"} 2\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 4\nh_sum 7.65\nh_count 4\n',
    );
    expect(new HistogramText('h', series.bounds).lines('a="1"', series).split('\n')[0]).toBe(
      'h_bucket{a="1",le="0.1"} 2',
    );
  });

  it('reads back exactly through a strict reader, escapes included', () => {
    const odd = 'q"\\\nz';
    const series = new HistogramSeries([1]);
    series.observe(0.5);
    const text =
      familyHeader('c_total', 'counts \\ things\nover lines', 'counter') +
      sampleLine('c_total', labelPair('x', odd), 2) +
      familyHeader('h', 'h', 'histogram') +
      new HistogramText('h', series.bounds).lines(labelPair('x', odd), series);
    expect(text.split('\n')[0]).toBe('# HELP c_total counts \\\\ things\\nover lines');
    const families = parseExposition(text);
    expect(families.get('c_total')?.samples).toEqual([{ name: 'c_total', labels: { x: odd }, value: 2 }]);
    expect(families.get('h')?.samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['h_bucket', { x: odd, le: '1' }, 1],
      ['h_bucket', { x: odd, le: '+Inf' }, 1],
      ['h_sum', { x: odd }, 0.5],
      ['h_count', { x: odd }, 1],
    ]);
  });
});
