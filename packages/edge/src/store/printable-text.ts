/**
 * Free text people type (key labels) and names the store keeps are later printed by the CLI
 * on a terminal: control characters in them could move the cursor, clear the screen or
 * fake other lines, and bidi overrides could reorder what is shown. They are refused on the
 * way in, and escaped on the way out for rows stored before that (or written around us).
 */
import { TunnelError } from '@burrow/protocol';

export const MAX_KEY_LABEL_LENGTH = 200;

// C0 and C1 controls, DEL, line and paragraph separators, and the bidi embeddings,
// overrides and isolates (U+202A-202E, U+2066-2069).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** `text` with every unprintable character as a visible escape (\xNN, or \uNNNN above 0xff). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export function hasUnprintable(text: string): boolean {
  return new RegExp(UNPRINTABLE.source, 'u').test(text);
}

/** The label as given, or TUN_ERR_INVALID_INPUT naming the field and what it may hold. */
export function validateKeyLabel(label: string): string {
  if (hasUnprintable(label)) {
    throw new TunnelError(
      'TUN_ERR_INVALID_INPUT',
      `the key label "${printable(label)}" contains control characters; use printable text on one line`,
    );
  }
  if (label.length > MAX_KEY_LABEL_LENGTH) {
    throw new TunnelError(
      'TUN_ERR_INVALID_INPUT',
      `the key label is ${label.length} characters long; use at most ${MAX_KEY_LABEL_LENGTH}`,
    );
  }
  return label;
}
