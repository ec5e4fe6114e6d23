/** Edit distance (Levenshtein), case-insensitive, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The `count` candidates closest to `name` (ties in the candidates' order), for an error's suggestion. */
export function closest(name: string, candidates: Iterable<string>, count = 3): string[] {
  const scored: [string, number][] = [];
  for (const c of candidates) {
    // A candidate that contains the name (or the reverse) is close whatever its length.
    const d =
      c.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(c.toLowerCase())
        ? Math.abs(c.length - name.length) / 4
        : distance(name, c);
    scored.push([c, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1])
    .slice(0, count)
    .map(([c]) => c);
}

/**
 * The one candidate close enough to `name` to be a likely typo of it (at most a third of its letters
 * off, at least 2; or one contains the other), else undefined: a "did you mean" that is never a guess.
 */
export function likelyTypo(name: string, candidates: Iterable<string>): string | undefined {
  const [best] = closest(name, candidates, 1);
  if (best === undefined) return undefined;
  const a = best.toLowerCase();
  const b = name.toLowerCase();
  if (a.includes(b) || b.includes(a)) return best;
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
