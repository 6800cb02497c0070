// Finite differences and closeness checks shared by the gradient tests.
import { expect } from 'vitest';

/**
 * Central differences of a scalar function of the entries of x, in float64:
 *   df/dx_k ≈ (f(x + h e_k) - f(x - h e_k)) / 2h,   error O(h^2 f''') + O(eps f / h).
 * With h = 1e-5 and f of order 1 both error terms are around 1e-10.
 */
export function centralDiff(f: () => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const x0 = x[k];
    x[k] = x0 + h;
    const fp = f();
    x[k] = x0 - h;
    const fm = f();
    x[k] = x0;
    g[k] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Every |a - b| <= atol + rtol |b|, b the reference; the failure names the first bad entry. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol: number },
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const b = expected[k];
    const excess = Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = k;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label}[${worst}]: ${actual[worst]} vs reference ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst]).toExponential(3)} > atol ${tol.atol} + rtol ${tol.rtol} |ref|)`,
    );
  }
}

/** Deterministic float64 test data in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const a = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[k] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return a;
}
