// Summary statistics of a row's runs (one test accuracy per seed), and the CI
// threshold derived from them.

export interface Stats {
  n: number;
  mean: number;
  sd: number; // sample standard deviation (n - 1 in the denominator); 0 for a single run
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Stats {
  const n = values.length;
  if (n === 0) throw new Error('summarize: no values');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { n, mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min: Math.min(...values), max: Math.max(...values) };
}

/** Fewest runs a threshold may come from. */
export const MIN_THRESHOLD_RUNS = 5;

/**
 * mean - 3 sd of measured runs, rounded down to 4 decimals (0.01 point) so the
 * written-out value never lies above the derived one. Under a normal spread a
 * healthy run falls below it about once in 740.
 */
export function threshold(runs: readonly number[]): number {
  if (runs.length < MIN_THRESHOLD_RUNS) throw new Error(`a threshold needs at least ${MIN_THRESHOLD_RUNS} runs, got ${runs.length}`);
  const { mean, sd } = summarize(runs);
  return Math.floor((mean - 3 * sd) * 1e4) / 1e4;
}
