/**
 * Which tunnels get a `tunnel` label value of their own. Raw names from traffic would let
 * anyone mint series (caddy#7208, authup#3253), so only named (reserved) tunnels are
 * admitted, when they bind, and at most `max` of them; every other tunnel, temporary or
 * beyond the cap, shares `_other` (never a tunnel name: names are DNS labels, without `_`).
 * A released name is forgotten and its series disappear from the next scrape.
 */

export const OTHER_TUNNEL = '_other';

export class TunnelSeriesBook<S> {
  readonly other: S;
  private readonly named = new Map<string, S>();

  /** `create` makes a name's series holder once, when it is admitted. */
  constructor(
    private readonly max: number,
    private readonly create: (label: string) => S,
  ) {
    this.other = create(OTHER_TUNNEL);
  }

  /** A named tunnel bound: its own series while there is room; false when it stays `_other`. */
  admit(name: string): boolean {
    if (this.named.has(name)) return true;
    if (this.named.size >= this.max) return false;
    this.named.set(name, this.create(name));
    return true;
  }

  /** The holder a record of `name` counts in: one map lookup per request. */
  seriesFor(name: string): S {
    return this.named.get(name) ?? this.other;
  }

  /** The name was released or changed owner: its series go; the slot is free for another name. */
  forget(name: string): boolean {
    return this.named.delete(name);
  }

  get size(): number {
    return this.named.size;
  }

  /** A snapshot: `_other` first, then the named holders in admission order. */
  list(): S[] {
    return [this.other, ...this.named.values()];
  }
}
