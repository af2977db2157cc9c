/**
 * One render's exposition, gathered as UTF-8 chunks in slices. The edge's data path shares
 * the event loop with scrapes, so a render at metrics.maxTunnelSeries (~6.5 MB of text)
 * must not run in one go: text is encoded a slice at a time (one 6.5 MB string flattened
 * and encoded at the end held the loop ~20 ms by itself), the writer yields the loop
 * between slices, and the chunks are sent as they are (joining them into one buffer took
 * another 3–9 ms). Concurrency: one render owns a writer; a render in progress may see
 * counters move between slices, as Prometheus tolerates.
 */

import { Buffer } from 'node:buffer';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Text gathered before a slice ends: well under 1 ms of writing and encoding on the bench machine (bench/metrics-render.js). */
export const SLICE_CHARS = 64 * 1024;

export class ExpositionWriter {
  private readonly chunks: Buffer[] = [];
  private text = '';

  /** `sliceChars`: characters written before the writer encodes them and yields; SLICE_CHARS by default. */
  constructor(private readonly sliceChars: number = SLICE_CHARS) {}

  /** Appends text to the current slice (never yields: a family's header and small families go here). */
  write(text: string): void {
    this.text += text;
  }

  /**
   * Appends `lines(item)` for every item, ending the slice and yielding the loop whenever one
   * fills. `items` is read across those yields, so pass a snapshot (an array made for this
   * render), never a live collection: one that changed meanwhile could repeat a series.
   */
  async writeEach<T>(items: readonly T[], lines: (item: T) => string): Promise<void> {
    for (const item of items) {
      this.text += lines(item);
      if (this.text.length >= this.sliceChars) {
        this.encode();
        await nextTurn();
      }
    }
  }

  /** The whole exposition as UTF-8 chunks, in order; the writer is spent. */
  finish(): Buffer[] {
    this.encode();
    return this.chunks;
  }

  private encode(): void {
    if (this.text === '') return;
    this.chunks.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
  }
}
