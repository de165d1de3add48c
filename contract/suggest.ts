/*
 * "Did you mean": the nearest of the words a tool knows to one it was given, for the one-line errors of
 * the CLI and `npm run fleet` (`n3-callback tial` → tail). Levenshtein distance, with a cap so that a word
 * unlike any known one gets no suggestion rather than a random one.
 */

/** Edits (insert, delete, substitute one character) from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The known word nearest to `given`, if it is near enough (at most a third of its length, at least 2 edits allowed). */
export function nearest(given: string, known: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(given.length / 3));
  let best: { word: string; distance: number } | undefined;
  for (const word of known) {
    const distance = editDistance(given.toLowerCase(), word.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { word, distance };
  }
  return best?.word;
}

/** `; did you mean "x"?`, or nothing. */
export const didYouMean = (given: string, known: readonly string[]): string => {
  const word = nearest(given, known);
  return word === undefined ? '' : `; did you mean "${word}"?`;
};

/** The flags a usage text names (`--json`, `--site`…), the words "did you mean" picks from for a flag. */
export const flagsNamedIn = (usage: string): string[] => [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])];
