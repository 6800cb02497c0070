// "did you mean": the allowed key closest to a mistyped one.

/**
 * The allowed key the user most likely meant, or undefined when none is close.
 * Close = same key up to case and `_`/`-` (batchSize), its initials
 * (learning_rate ~ lr), one of its words (batch ~ batch_size), or a few typos
 * (Damerau-Levenshtein <= 3 and <= 40% of the longer key).
 */
export function closestKey(typed: string, allowed: readonly string[]): string | undefined {
  // nobody mistypes a key as 65 characters; and the distance table grows with the length
  if (typed.length > 64) return undefined;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const key of allowed) {
    const score = closeness(typed, key);
    if (score < bestScore) [best, bestScore] = [key, score];
  }
  return best;
}

function closeness(typed: string, key: string): number {
  const a = squash(typed);
  const b = squash(key);
  const distance = editDistance(a, b);
  if (distance <= Math.min(3, Math.ceil(0.4 * Math.max(a.length, b.length)))) return distance;
  if (initials(typed) === b || initials(key) === a) return 1;
  if (words(key).includes(a) || words(typed).includes(b)) return 2;
  return Infinity;
}

const squash = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');
const words = (key: string): string[] =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[-_]+/)
    .filter((w) => w !== '');
/** learning_rate -> "lr"; a one-word key has no initials worth matching. */
function initials(key: string): string {
  const parts = words(key);
  return parts.length > 1 ? parts.map((w) => w[0]).join('') : '';
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  // d[i][j] = distance between a[0..i) and b[0..j); row 0 and column 0 are all insertions/deletions.
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
