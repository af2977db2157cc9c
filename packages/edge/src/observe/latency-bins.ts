/**
 * Fixed log-scale latency bins: ten a decade on the Renard R10 series (1, 1.25, 1.6, 2, 2.5,
 * 3.15, 4, 5, 6.3, 8) from 0.1 ms to 1,000 s, so a percentile read from merged counts is the
 * upper edge of its bin, at most 28% above the true value. Fixed edges let counts from any
 * time bucket be added together without resampling.
 */

const R10 = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8] as const;

function buildEdges(): Float64Array {
  const edges: number[] = [];
  for (let decade = -1; decade <= 5; decade++)
    for (const mantissa of R10) edges.push(Number((mantissa * 10 ** decade).toPrecision(3)));
  edges.push(1_000_000);
  return Float64Array.from(edges);
}

/** Upper edges in ms, ascending: bin i holds values in (EDGES[i-1], EDGES[i]]; bin 0 holds [0, 0.1]. */
export const LATENCY_EDGES_MS: Float64Array = buildEdges();

/** One more than the edges: the last bin holds everything above 1,000 s. */
export const LATENCY_BIN_COUNT = LATENCY_EDGES_MS.length + 1;

/** The bin of a duration in ms (negative or NaN counts as 0). Binary search: ~7 comparisons. */
export function latencyBin(ms: number): number {
  if (!(ms > LATENCY_EDGES_MS[0]!)) return 0;
  let low = 1;
  let high = LATENCY_EDGES_MS.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ms <= LATENCY_EDGES_MS[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The value a bin reports: its upper edge; the overflow bin reports its lower edge (1,000,000 ms). */
export function binValueMs(bin: number): number {
  return LATENCY_EDGES_MS[Math.min(bin, LATENCY_EDGES_MS.length - 1)]!;
}

/**
 * The nearest-rank `quantile` (0 < q ≤ 1) of merged bin counts whose sum is `total`, as the
 * upper edge of the bin holding that rank; null when there are no values.
 */
export function quantileMs(counts: Uint32Array, total: number, quantile: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    seen += counts[bin]!;
    if (seen >= rank) return binValueMs(bin);
  }
  return binValueMs(counts.length - 1);
}
