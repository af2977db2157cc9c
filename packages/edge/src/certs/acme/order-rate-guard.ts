/**
 * Keeps this edge inside the CA's limits: sliding windows of new orders per hour (all names)
 * and per registered domain per week. Only orders that pass both are counted, so a refused
 * name does not use up the window, and entries exist only for orders placed, so memory is
 * bounded by the window sizes whatever names are tried.
 *
 * The registered domain is approximated by the last two labels (no public suffix list):
 * `a.example.co.uk` counts against `co.uk`, which is stricter than the CA, never looser.
 * Counts are per edge process; edges sharing one account should share the budget by
 * setting lower limits each.
 */
import type { Clock } from '@burrow/protocol';

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;

export function registeredDomainOf(host: string): string {
  return host.split('.').slice(-2).join('.');
}

export interface OrderRateGuardOptions {
  clock: Clock;
  perHour: number;
  perDomainPerWeek: number;
}

export class OrderRateGuard {
  /** Times of orders placed in the last hour, oldest first. */
  readonly #hour: number[] = [];
  /** Registered domain -> times of orders in the last week, oldest first. */
  readonly #domains = new Map<string, number[]>();

  /** When the last `take` that counted was made; what `giveBack` needs to undo exactly that one. */
  lastTakenAt = 0;

  constructor(private readonly options: OrderRateGuardOptions) {}

  get trackedDomains(): number {
    return this.#domains.size;
  }

  /**
   * Counts an order for `host` and returns null when both windows allow it; otherwise counts
   * nothing and returns the milliseconds until one would.
   */
  take(host: string): number | null {
    const now = this.options.clock.now();
    this.lastTakenAt = now;
    prune(this.#hour, now - HOUR_MS);
    const domain = registeredDomainOf(host);
    const week = this.#domains.get(domain) ?? [];
    prune(week, now - WEEK_MS);
    if (week.length === 0) this.#domains.delete(domain);
    const waits: number[] = [];
    if (this.#hour.length >= this.options.perHour) waits.push(this.#hour[0]! + HOUR_MS - now);
    if (week.length >= this.options.perDomainPerWeek) waits.push(week[0]! + WEEK_MS - now);
    if (waits.length > 0) return Math.max(...waits);
    this.#hour.push(now);
    week.push(now);
    this.#domains.set(domain, week);
    this.#sweep(now);
    return null;
  }

  /**
   * Gives back what `take(host)` counted at `takenAt` (its `lastTakenAt`, read right after
   * it): the order was not placed after all (another edge held the name's lock), so it must
   * not use up this edge's budget. Other takes made since keep their own times.
   */
  giveBack(host: string, takenAt: number): void {
    removeLast(this.#hour, takenAt);
    const domain = registeredDomainOf(host);
    const week = this.#domains.get(domain);
    if (week === undefined) return;
    removeLast(week, takenAt);
    if (week.length === 0) this.#domains.delete(domain);
  }

  /** Drops domains whose week has passed, so the map holds only domains ordered this week. */
  #sweep(now: number): void {
    for (const [domain, times] of this.#domains) {
      prune(times, now - WEEK_MS);
      if (times.length === 0) this.#domains.delete(domain);
    }
  }
}

function prune(times: number[], before: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! <= before) drop += 1;
  if (drop > 0) times.splice(0, drop);
}

/** Removes the newest entry equal to `value` (times are kept oldest first). */
function removeLast(times: number[], value: number): void {
  const at = times.lastIndexOf(value);
  if (at !== -1) times.splice(at, 1);
}
