import { describe, it } from 'vitest';
import { ACTIVATIONS, type ActivationName } from '../../src/kernels/activations.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// float64 central differences with h = 1e-5 have truncation + rounding error
// near 1e-10 for these smooth functions of O(1) inputs; 1e-8 absolute plus
// 1e-6 relative leaves two orders of margin and still catches any wrong term.
const TOL = { atol: 1e-8, rtol: 1e-6 };

describe.each(['sigmoid', 'tanh', 'relu', 'softmax'] as ActivationName[])('%s', (name) => {
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
    act.backward(dZ, g, A, N, O);
    expectClose(dZ, numeric, TOL, `${name} dZ`);
  });
});
