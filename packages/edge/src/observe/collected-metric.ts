/**
 * A metric whose values live elsewhere (plain counters and HistogramSeries the data path
 * updates) and are read only when Prometheus scrapes. prom-client's own Counter and
 * Histogram hash their label values on every `inc`/`observe` (about 1.5 us per request for
 * the edge's series, measured), and its Registry builds an object per sample at scrape
 * time; these cost nothing until a scrape, which writes their text directly
 * (exposition-text.ts) into the render's ExpositionWriter. EdgeMetrics renders them beside
 * prom-client's registry.
 */

import { familyHeader, type MetricKind } from './exposition-text.js';
import type { ExpositionWriter } from './exposition-writer.js';

export class CollectedMetric {
  /**
   * `lines` writes this family's sample lines at scrape time, each ending in a line feed; it
   * must not throw. A family of many series writes them with `out.writeEach`, in slices.
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricKind,
    private readonly lines: (out: ExpositionWriter) => void | Promise<void>,
  ) {}

  /** The whole family: HELP, TYPE, then its samples (none is fine: the family is still declared). */
  async write(out: ExpositionWriter): Promise<void> {
    out.write(familyHeader(this.name, this.help, this.type));
    await this.lines(out);
  }
}
