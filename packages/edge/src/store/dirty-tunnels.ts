/**
 * The tunnels whose request-history count may have passed the per-tunnel cap since the last
 * prune pass: those this store inserted records for. The retention pass checks only them,
 * so a pass with nothing inserted since costs no scan at all.
 *
 * Per store instance, so per edge: several edges sharing one PostgreSQL each mark only their
 * own inserts, and each edge's pass prunes what it inserted. Another edge's records are that
 * edge's to prune; one that stops for good leaves at most its last interval's inserts over
 * the cap until the tunnel's next insert anywhere, a restart, or the age cut.
 */

/** Distinct names held at most; past it, the next pass checks every tunnel instead. */
export const MAX_DIRTY_TUNNELS = 10_000;

/** What one pass must check: every tunnel in the table, or the named ones. */
export type PruneScope = { every: true } | { every: false; tunnels: readonly string[] };

export class DirtyTunnels {
  readonly #max: number;
  #names = new Set<string>();
  /** A fresh store knows nothing of what earlier processes inserted: its first pass checks all. */
  #every = true;
  /** The cap of the last pass taken; a lower one can leave any tunnel over it. */
  #keep = Infinity;

  constructor(max = MAX_DIRTY_TUNNELS) {
    this.#max = max;
  }

  /** Call once the records are stored (or their insert failed): a pass taken before then would miss them. */
  mark(records: readonly { tunnel: string }[]): void {
    if (this.#every) return;
    for (const { tunnel } of records) this.#names.add(tunnel);
    if (this.#names.size > this.#max) {
      this.#every = true;
      this.#names.clear();
    }
  }

  /** The scope of a pass with cap `keep`; starts a fresh set (inserts from now on mark the next pass). */
  take(keep: number): PruneScope {
    const every = this.#every || keep < this.#keep;
    const names = this.#names;
    this.#keep = keep;
    this.#every = false;
    this.#names = new Set();
    return every ? { every: true } : { every: false, tunnels: [...names] };
  }

  /** A pass that failed: its scope is checked again next time. */
  restore(scope: PruneScope): void {
    if (scope.every) {
      this.#every = true;
      this.#names.clear();
    } else this.mark(scope.tunnels.map((tunnel) => ({ tunnel })));
  }
}
