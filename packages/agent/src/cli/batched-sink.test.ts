import { describe, expect, it } from 'vitest';
import { BatchedSink } from './batched-sink.js';

describe('BatchedSink', () => {
  it('writes the lines of one event-loop turn in one write, in order', async () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (chunk) => writes.push(chunk) });
    sink.write('a\n');
    sink.write('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    sink.write('c\n');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('flushes what is pending at once when asked (before exit)', () => {
    const writes: string[] = [];
    const sink = new BatchedSink({ write: (chunk) => writes.push(chunk) });
    sink.write('last line\n');
    sink.flush();
    expect(writes).toEqual(['last line\n']);
    sink.flush();
    expect(writes).toEqual(['last line\n']);
  });
});
