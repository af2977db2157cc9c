/**
 * The tunnels whose request-history count may have passed the per-tunnel cap since the last
 * prune pass: those this store inserted records for, less those whose last seen count plus
 * the records inserted since still fits under the cap. The retention pass checks only the
 * rest, so a pass with nothing inserted since costs no scan at all, and a tunnel far under
 * a large cap costs no walk of its index on every pass.
 *
 * Per store instance, so per edge: several edges sharing one PostgreSQL each mark only their
 * own inserts, and each edge's pass prunes what it inserted. Another edge's records are that
 * edge's to prune; one that stops for good leaves at most its last interval's inserts over
 * the cap until the tunnel's next insert anywhere, a restart, or the age cut.
 */

/** Distinct names held at most; past it, the next pass checks every tunnel instead. */
export const MAX_DIRTY_TUNNELS = 10_000;
/** Last seen counts held at most; the oldest seen goes first (that tunnel is then walked when next inserted for). */
export const MAX_SEEN_TUNNELS = 10_000;
/**
 * Passes a seen count spares a tunnel at most before it is walked again. The count is this
 * edge's view: records another edge inserted for the same name since are not in it, so a
 * name that moved between edges is looked at again within this many passes.
 */
export const MAX_SKIPPED_PASSES = 10;

/** What one pass must check: every tunnel in the table, or the named ones. */
export type PruneScope = { every: true } | { every: false; tunnels: readonly string[] };

interface Seen {
  /** At least the tunnel's record count: as a pass saw it, plus this store's inserts since. */
  count: number;
  /** Passes that skipped the tunnel on this count. */
  skipped: number;
}

export class DirtyTunnels {
  readonly #max: number;
  readonly #maxSeen: number;
  /** Name → records inserted for it since the last pass. */
  #inserted = new Map<string, number>();
  #seen = new Map<string, Seen>();
  /** A fresh store knows nothing of what earlier processes inserted: its first pass checks all. */
  #every = true;
  /** The cap of the last pass taken; a lower one can leave any tunnel over it. */
  #keep = Infinity;

  constructor(max = MAX_DIRTY_TUNNELS, maxSeen = MAX_SEEN_TUNNELS) {
    this.#max = max;
    this.#maxSeen = maxSeen;
  }

  /** Call once the records are stored (or their insert failed): a pass taken before then would miss them. */
  mark(records: readonly { tunnel: string }[]): void {
    if (this.#every) return;
    for (const { tunnel } of records) this.#inserted.set(tunnel, (this.#inserted.get(tunnel) ?? 0) + 1);
    if (this.#inserted.size > this.#max) {
      // Counts of inserts are lost with the names, so no seen count is an upper bound any more.
      this.#every = true;
      this.#inserted.clear();
      this.#seen.clear();
    }
  }

  /** The tunnel may still be over the cap: its seen count no longer spares it, and the next pass checks it. */
  recheck(tunnel: string): void {
    this.#seen.delete(tunnel);
    this.mark([{ tunnel }]);
  }

  /**
   * The scope of a pass with cap `keep` (a whole number); starts a fresh set (inserts from
   * now on mark the next pass). A marked tunnel is left out while its seen count plus its
   * inserts since is at most `keep`, for up to MAX_SKIPPED_PASSES passes.
   */
  take(keep: number): PruneScope {
    const every = this.#every || keep < this.#keep;
    const tunnels: string[] = [];
    for (const [tunnel, inserted] of this.#inserted) {
      const seen = this.#seen.get(tunnel);
      if (seen === undefined) {
        tunnels.push(tunnel);
        continue;
      }
      seen.count += inserted;
      if (every || seen.count > keep || seen.skipped >= MAX_SKIPPED_PASSES) {
        // The pass reports what it sees; until then nothing is known.
        this.#seen.delete(tunnel);
        tunnels.push(tunnel);
      } else seen.skipped++;
    }
    this.#keep = keep;
    this.#every = false;
    this.#inserted = new Map();
    return every ? { every: true } : { every: false, tunnels };
  }

  /**
   * A pass saw `count` records in `tunnel` (after its deletes) while its scope was current:
   * inserts marked since are added on the next take. Holds MAX_SEEN_TUNNELS at most.
   */
  saw(tunnel: string, count: number): void {
    if (this.#every) return;
    this.#seen.delete(tunnel);
    this.#seen.set(tunnel, { count, skipped: 0 });
    if (this.#seen.size > this.#maxSeen) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
  }

  /** A pass that failed: its scope is checked again next time, whatever it saw. */
  restore(scope: PruneScope): void {
    if (scope.every) {
      this.#every = true;
      this.#inserted.clear();
      this.#seen.clear();
      return;
    }
    for (const tunnel of scope.tunnels) this.#seen.delete(tunnel);
    this.mark(scope.tunnels.map((tunnel) => ({ tunnel })));
  }
}
