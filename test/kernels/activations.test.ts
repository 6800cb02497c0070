import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, maxout, maxoutBackward, maxoutForward, type ActivationName } from '../../src/kernels/activations.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// float64 central differences with h = 1e-5 have truncation + rounding error
// near 1e-10 for these smooth functions of O(1) inputs; 1e-8 absolute plus
// 1e-6 relative leaves two orders of margin and still catches any wrong term.
const TOL = { atol: 1e-8, rtol: 1e-6 };

describe.each(['sigmoid', 'tanh', 'relu', 'softplus', 'softmax'] as ActivationName[])('%s', (name) => {
  const act = ACTIVATIONS[name];
  it.each([
    [1, 1],
    [3, 5],
    [4, 10],
  ])('backward is the gradient of sum(g * f(Z)) for N=%i, O=%i', (N, O) => {
    const Z = randomArray(N * O, 7 + N * O, -3, 3);
    // relu has a kink at 0: keep the inputs away from it so differences are smooth.
    if (name === 'relu') for (let k = 0; k < Z.length; k++) Z[k] = Z[k] >= 0 ? Z[k] + 0.1 : Z[k] - 0.1;
    const g = randomArray(N * O, 99 + N, -1, 1); // random upstream gradient dL/dA
    const A = new Float64Array(N * O);
    const L = (): number => {
      act.forward(A, Z, N, O);
      let s = 0;
      for (let k = 0; k < A.length; k++) s += g[k] * A[k];
      return s;
    };
    const numeric = centralDiff(L, Z);
    act.forward(A, Z, N, O);
    const dZ = new Float64Array(N * O).fill(NaN);
    act.backward(dZ, g, A, Z, N, O);
    expectClose(dZ, numeric, TOL, `${name} dZ`);
  });
});

describe('softplus: ln(1 + e^z) without overflow or cancellation', () => {
  it('matches the defining formula where that is exact, and stays finite and accurate far out', () => {
    const Z = Float64Array.from([-800, -40, -1, 0, 1, 20, 40, 800]);
    const A = new Float64Array(Z.length).fill(NaN);
    ACTIVATIONS.softplus.forward(A, Z, 1, Z.length);
    expect(A[3]).toBe(Math.LN2);
    expect(A[2]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 15);
    expect(A[4]).toBeCloseTo(Math.log(1 + Math.exp(1)), 14);
    // z << 0: a = e^z to full relative precision (log(1 + e^z) would round to 0 below -37)
    expect(Math.abs(A[1] - Math.exp(-40)) / Math.exp(-40)).toBeLessThan(1e-15);
    expect(A[0]).toBe(0); // e^-800 underflows to 0 in float64: the exact result rounds there too
    // z >> 0: a = z + e^-z (e^800 would be Infinity)
    expect(A[5]).toBe(20 + Math.log1p(Math.exp(-20)));
    expect(A[6]).toBe(40);
    expect(A[7]).toBe(800);
  });

  it('its derivative is sigmoid(z), also far out (no NaN from Infinity / Infinity)', () => {
    const Z = Float64Array.from([-800, -30, 0, 2, 800]);
    const dA = new Float64Array(Z.length).fill(1);
    const A = new Float64Array(Z.length);
    const dZ = new Float64Array(Z.length).fill(NaN);
    ACTIVATIONS.softplus.forward(A, Z, 1, Z.length);
    ACTIVATIONS.softplus.backward(dZ, dA, A, Z, 1, Z.length);
    expect(Array.from(dZ)).toEqual(Array.from(Z, (z) => 1 / (1 + Math.exp(-z))));
    expect(dZ[0]).toBe(0);
    expect(dZ[2]).toBe(0.5);
    expect(dZ[4]).toBe(1);
  });
});

describe('maxout: a[n, h] = max_j z[n, h k + j], the gradient to the winning piece', () => {
  it.each([
    [1, 1, 2],
    [3, 4, 2],
    [2, 5, 3],
    [4, 3, 5],
  ])('backward is the gradient of sum(g * maxout(Z)) for N=%i, H=%i, k=%i (pieces apart, so no tie within h)', (N, H, k) => {
    const act = maxout(k);
    const Z = randomArray(N * H * k, 5 + N * H * k, -3, 3); // distinct values: gaps far above 2h
    const g = randomArray(N * H, 31 + N, -1, 1);
    const A = new Float64Array(N * H);
    const L = (): number => {
      act.forward(A, Z, N, H);
      let s = 0;
      for (let u = 0; u < A.length; u++) s += g[u] * A[u];
      return s;
    };
    const numeric = centralDiff(L, Z);
    act.forward(A, Z, N, H);
    const dZ = new Float64Array(N * H * k).fill(NaN);
    act.backward(dZ, g, A, Z, N, H);
    expectClose(dZ, numeric, TOL, 'maxout dZ');
    // and exactly: one piece per unit carries g, the others are 0
    for (let u = 0; u < N * H; u++) {
      const row = Array.from(dZ.subarray(u * k, (u + 1) * k));
      expect(row.filter((v) => v !== 0)).toEqual([g[u]]);
    }
  });

  it('pieces are consecutive per unit (PyTorch view(N, H, k).max(-1)); a tie sends the gradient to the first maximum only', () => {
    // N = 2 rows, H = 3 units, k = 3 pieces
    const Z = Float32Array.from([
      1, 5, 2, /**/ -1, -3, -2, /**/ 7, 7, 0, // unit 2: a tie between pieces 0 and 1
      0, 0, 0, /**/ -4, 9, 9, /**/ 3, 2, 3, // a three-way tie; ties at pieces 1, 2; at 0, 2
    ]);
    const A = new Float32Array(6).fill(NaN);
    maxoutForward(A, Z, 2, 3, 3);
    expect(Array.from(A)).toEqual([5, -1, 7, 0, 9, 3]);
    const dA = Float32Array.from([10, 20, 30, 40, 50, 60]);
    const dZ = new Float32Array(18).fill(NaN);
    maxoutBackward(dZ, dA, A, Z, 2, 3, 3);
    expect(Array.from(dZ)).toEqual([
      0, 10, 0, /**/ 20, 0, 0, /**/ 30, 0, 0,
      40, 0, 0, /**/ 0, 50, 0, /**/ 60, 0, 0,
    ]);
  });

  it('a NaN piece makes the unit NaN (as torch.max) and no piece gets a gradient; dA and Z are not written', () => {
    const Z = Float64Array.from([NaN, 1, /**/ 2, NaN, /**/ 3, 4]);
    const A = new Float64Array(3);
    maxoutForward(A, Z, 1, 3, 2);
    expect(A[0]).toBeNaN();
    expect(A[1]).toBeNaN();
    expect(A[2]).toBe(4);
    const dA = Float64Array.from([1, 2, 3]);
    const dZ = new Float64Array(6).fill(NaN);
    maxoutBackward(dZ, dA, A, Z, 1, 3, 2);
    expect(Array.from(dZ)).toEqual([0, 0, 0, 0, 0, 3]);
    expect(Array.from(dA)).toEqual([1, 2, 3]);
    expect(Array.from(Z, (z) => (Number.isNaN(z) ? 'NaN' : z))).toEqual(['NaN', 1, 2, 'NaN', 3, 4]);
  });
});
