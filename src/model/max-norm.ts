// Max-norm (Srivastava et al. 2014, section 5.1): after each optimizer step,
// every unit's incoming weight vector w = W_l[o, :] (a row of W_l [O, I];
// biases are not constrained) is projected onto the ball of radius c:
//
//   ||w|| > c  ->  w = c w / ||w||        (else w is left as it is)
//
// The reference, on the model's W_l. Its arithmetic, which the module's
// (src/kernels/wasm/max-norm-wat.ts) repeats for bit-identical results:
// s = Σ_i w_i^2 in float64 with i ascending (the square of a float32 is exact
// in float64), ||w|| = sqrt(s), and each w_i (c / ||w||) is a float64 product
// stored into the model's array (rounded once, for a float32 model).
import type { Mlp, Vec } from './mlp.js';

/** Rows of W [O, I] with norm over c rescaled to norm c. */
export function maxNormRows(W: Vec, O: number, I: number, c: number): void {
  for (let o = 0; o < O; o++) {
    const row = o * I;
    let s = 0;
    for (let i = 0; i < I; i++) s += W[row + i] * W[row + i];
    const norm = Math.sqrt(s);
    if (!(norm > c)) continue;
    const f = c / norm;
    for (let i = 0; i < I; i++) W[row + i] *= f;
  }
}

/** Max-norm c on every layer's weights. */
export function applyMaxNorm(model: Mlp, c: number): void {
  for (let l = 0; l < model.L; l++) maxNormRows(model.W[l], model.slots[l].O, model.slots[l].I, c);
}
