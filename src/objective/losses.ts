// The data term of the objective, summed over the batch (seed 001, seed 004):
//
//   mse:            E = Σ_i Σ_j 1/2 (y_ij - d_ij)^2          dE/dy_ij = y_ij - d_ij
//   cross_entropy:  E = -Σ_i Σ_j d_ij log y_ij,  y = softmax(z)
//
// For softmax + cross-entropy the gradient is taken with respect to the logits,
// where it is simple and stable: with S_i = Σ_j d_ij (1 for one-hot rows),
//   E_i = Σ_j d_ij (lse(z_i) - z_ij),  lse(z) = log Σ_k e^z_k
//   dE_i/dz_ik = S_i y_ik - d_ik
// (going through dE/dy = -d/y would divide by outputs that underflow to 0).
import type { Vec } from '../kernels/matmul.js';
import type { OutputBatch } from './batch.js';

export const mse = {
  value(b: OutputBatch): number {
    const { Y, D } = b;
    const len = b.n * b.O;
    let e = 0;
    for (let k = 0; k < len; k++) {
      const r = Y[k] - D[k];
      e += r * r;
    }
    return 0.5 * e;
  },
  /** dY += dE/dY = Y - D */
  addGradY(dY: Vec, b: OutputBatch): void {
    const { Y, D } = b;
    const len = b.n * b.O;
    for (let k = 0; k < len; k++) dY[k] += Y[k] - D[k];
  },
};

export const crossEntropy = {
  /** Computed from the logits (log-sum-exp with the max subtracted), so a 0 output gives a large finite loss, not Infinity. */
  value(b: OutputBatch): number {
    const { Z, D, n, O } = b;
    let e = 0;
    for (let i = 0; i < n; i++) {
      const row = i * O;
      let max = -Infinity;
      for (let j = 0; j < O; j++) if (Z[row + j] > max) max = Z[row + j];
      let sum = 0;
      for (let j = 0; j < O; j++) sum += Math.exp(Z[row + j] - max);
      const lse = max + Math.log(sum);
      for (let j = 0; j < O; j++) {
        const d = D[row + j];
        if (d !== 0) e += d * (lse - Z[row + j]);
      }
    }
    return e;
  },
  /** deltaY += dE/dZ = S_i Y - D, with S_i = Σ_j d_ij. */
  addGradZ(deltaY: Vec, b: OutputBatch): void {
    const { Y, D, n, O } = b;
    for (let i = 0; i < n; i++) {
      const row = i * O;
      let S = 0;
      for (let j = 0; j < O; j++) S += D[row + j];
      for (let j = 0; j < O; j++) deltaY[row + j] += S * Y[row + j] - D[row + j];
    }
  },
};
