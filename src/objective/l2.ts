// L2 weight decay (seed 002): E_l2 = lambda/2 Σ_l ||W_l||^2, weights only (biases are not decayed).
//   dE_l2/dW_l = lambda W_l
// It is added once per batch to the summed objective, so after the trainer's
// 1/d scale each step decays W by lr*lambda/d: lambda plays the role of Ng's lambda/m.
import type { Vec } from '../kernels/matmul.js';

export function l2Value(lambda: number, W: readonly Vec[]): number {
  let s = 0;
  for (const w of W) for (let k = 0; k < w.length; k++) s += w[k] * w[k];
  return 0.5 * lambda * s;
}

/** dW_l += lambda W_l */
export function l2AddGrad(lambda: number, dW: readonly Vec[], W: readonly Vec[]): void {
  for (let l = 0; l < W.length; l++) {
    const w = W[l];
    const g = dW[l];
    for (let k = 0; k < w.length; k++) g[k] += lambda * w[k];
  }
}
