/*
 * Sender-controlled text (ids, paths, message texts, kept bodies) reaches an operator's terminal. Control
 * characters in it could move the cursor and rewrite what was printed, set the window title or the
 * clipboard (OSC 52), and bidi overrides reorder what is shown; so every print of external data goes
 * through `printable`, which shows them as visible escapes (`\x1b`, `\u202e`) instead: C0 and C1
 * controls, DEL, the bidi controls, and the Unicode line and paragraph separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these characters are exactly what it finds.
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
// JSON.stringify already escapes C0 in strings; any C0 left in its output is its own layout.
const UNPRINTABLE_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, '0');

/** Text from outside, safe to print: control characters as `\x1b`, `\u202e`; `multiline` keeps line breaks and tabs. */
export function printable(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(UNPRINTABLE, (c) =>
    options.multiline && (c === '\n' || c === '\t') ? c : c <= '\xff' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`,
  );
}

/** `printable` on every string of a value read from outside (a document view, an arrival), for tables. */
export function printableStrings<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(printableStrings) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [printable(key), printableStrings(v)])) as T;
  return value;
}

/** JSON for a terminal: the same data, with what `printable` escapes written as JSON `\u` escapes. */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNPRINTABLE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
