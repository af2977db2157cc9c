/**
 * Reads the Prometheus text exposition format (version 0.0.4) the way a scraper does, so
 * tests can assert exact sample values: `name{label="value",...} number` lines, `#` lines
 * skipped, label values unescaped (`\\`, `\"`, `\n`).
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL))
      labels[key!] = raw!.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** The value of the sample with exactly these labels (an empty value counts as absent, as in Prometheus); undefined without one. */
export function sampleValue(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ''));
  return samples.find(
    (s) =>
      s.name === name &&
      sameLabels(Object.fromEntries(Object.entries(s.labels).filter(([, v]) => v !== '')), wanted),
  )?.value;
}

/** Every sample of one metric name. */
export function samplesOf(samples: readonly PromSample[], name: string): PromSample[] {
  return samples.filter((s) => s.name === name);
}
