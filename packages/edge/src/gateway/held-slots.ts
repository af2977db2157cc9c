/**
 * Quota slots taken by operations still in flight. A quota that counts only finished work
 * lets a burst through: every request is checked before the first one's awaited store
 * write lands. So a slot is taken synchronously with the check, counted by every quota
 * from then on, and given back when the operation ends (or turns into the real thing).
 */

export class HeldSlots {
  #held = 0;

  get count(): number {
    return this.#held;
  }

  /** Takes one slot now; the returned function gives it back, once however often it is called. */
  take(): () => void {
    this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held--;
    };
  }
}
