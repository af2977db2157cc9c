/**
 * `--request-header-add/-remove` and `--response-header-add/-remove` on flat raw header
 * lists ([name, value, ...]), so order, case and repeated headers of everything not
 * edited survive. Removal matches names case-insensitively; additions keep the case the
 * user wrote.
 */

/** RFC 9110 §5.6.2 token: what a header name may consist of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * What Node accepts in a header value (HTAB, visible ASCII, obs-text). Anything else,
 * CR/LF/NUL above all, would split or corrupt the head, or make Node throw mid-request.
 */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4096;

/**
 * Names a policy may not add or remove: they frame the message or belong to one hop, so
 * editing them invites request smuggling or broken connections. Host is set by the agent
 * (`--host-header`), which knows the origin.
 */
export const UNEDITABLE_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);

export function isHeaderName(name: string): boolean {
  return name.length <= MAX_HEADER_NAME_LENGTH && TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return value.length <= MAX_HEADER_VALUE_LENGTH && FIELD_VALUE.test(value);
}

/** Splits `"Name: value"` at the first colon; the value loses surrounding whitespace. Null if malformed. */
export function parseHeaderLine(line: string): { name: string; value: string } | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const name = line.slice(0, colon);
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!isHeaderName(name) || !isHeaderValue(value)) return null;
  return { name, value };
}

/** Removes every header whose lower-cased name is in `names`. */
export function removeHeaders(raw: readonly string[], names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (names.has(raw[i]!.toLowerCase())) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * One direction's edits. `apply` removes first, then appends the additions in the order
 * given, so listing a name in both replaces the header; listing it only in `add` adds a
 * value beside any the sender already set.
 */
export class HeaderEdit {
  readonly remove: ReadonlySet<string>;
  readonly add: readonly (readonly [name: string, value: string])[];

  constructor(remove: readonly string[], add: readonly (readonly [string, string])[]) {
    this.remove = new Set(remove.map((name) => name.toLowerCase()));
    this.add = add;
  }

  /** Builds the edit from policy spec lines; the lines must already be validated. */
  static fromSpec(remove: readonly string[] = [], addLines: readonly string[] = []): HeaderEdit {
    const add = addLines.map((line) => {
      const parsed = parseHeaderLine(line);
      if (parsed === null) throw new RangeError('header line was not validated');
      return [parsed.name, parsed.value] as const;
    });
    return new HeaderEdit(remove, add);
  }

  get isEmpty(): boolean {
    return this.remove.size === 0 && this.add.length === 0;
  }

  /** The edited list, always a new array; `raw` is not modified. A bound function, safe to pass around. */
  apply = (raw: readonly string[]): string[] => {
    const out = this.remove.size === 0 ? [...raw] : removeHeaders(raw, this.remove);
    for (const [name, value] of this.add) out.push(name, value);
    return out;
  };
}
