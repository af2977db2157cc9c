import { describe, expect, it } from 'vitest';
import { ExpositionWriter } from './exposition-writer.js';

describe('exposition writer', () => {
  it('encodes a slice and yields the loop each time one fills, keeping every byte in order', async () => {
    const out = new ExpositionWriter(10);
    out.write('# head\n');
    // Something else waiting on the loop: it runs while the writer yields.
    let turns = 0;
    const other = (): void => {
      turns += 1;
      if (turns < 100) setImmediate(other);
    };
    setImmediate(other);
    const items = Array.from({ length: 20 }, (_, i) => `é${i}\n`);
    await out.writeEach(items, (item) => item);
    const chunks = out.finish();
    // "é" is two bytes: chunk lengths are bytes, slices are counted in characters.
    expect(Buffer.concat(chunks).toString('utf8')).toBe(`# head\n${items.join('')}`);
    expect(chunks.length).toBeGreaterThan(5);
    expect(turns).toBeGreaterThanOrEqual(chunks.length - 1);
  });

  it('renders a small text in one chunk, without waiting', async () => {
    const out = new ExpositionWriter();
    await out.writeEach(['a 1\n', 'b 2\n'], (line) => line);
    out.write('c 3\n');
    expect(out.finish().map((chunk) => chunk.toString())).toEqual(['a 1\nb 2\nc 3\n']);
  });
});
