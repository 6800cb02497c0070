// The fast pass's dropout and max-norm, in the module on its memory.
//
// Dropout (dropout.ts): the module's mask (dropout-wat.ts); the inputs are
// dropped in X itself (zeros, which the sparse first-layer products skip),
// each hidden A_l into a dropped copy in the module's memory.
//
// Max-norm (max-norm.ts has the rule and the reference): on
// the working layout (wasm-layout.ts), where a unit's incoming weights are a
// column of W_l^T [I, O] (in 16-column panels for l = 0, row-major
// otherwise), or a row of a narrow layer's W_l [O, I]. Full 16-column groups
// go to max_norm_cols (a panelled layer's last group is padded with zero
// columns, whose norm 0 leaves them alone); a row-major W^T's last columns
// and a narrow layer's rows to max_norm_vectors. Every vector is handled by
// one thread in the reference's order: the bits are the reference's.
import type { MaskKey } from '../kernels/dropout.js';
import type { ModuleCalls } from '../kernels/wasm/calls.js';
import { PANEL_Q, ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import { grainOf } from '../kernels/wasm/pool.js';
import { Dropout, NO_PASS_REGULARIZATION, type PassRegularization } from './dropout.js';
import type { Mlp } from './mlp.js';
import type { WasmLayout } from './wasm-layout.js';

/** The fast pass's dropout for batches of up to `capacity` rows (null if nothing is dropped); `f32` allocates in the module's memory. */
export function moduleDropout(
  k: ModuleCalls, model: Mlp, capacity: number, reg: PassRegularization | undefined, f32: (floats: number) => Float32Array,
): Dropout<Float32Array> | null {
  const run = (out: Float32Array, A: Float32Array, len: number, key: MaskKey): void =>
    k.dropout(len, grainOf(len, k.threads, 16, 4096), { out, A, ...key });
  return Dropout.of(model, capacity, reg ?? NO_PASS_REGULARIZATION, { run, alloc: f32, inPlaceInput: true });
}

/** Max-norm c on the working weights W (views in the layout's order). */
export function moduleMaxNorm(k: ModuleCalls, layout: WasmLayout, W: readonly Float32Array[], c: number): void {
  for (const [l, s] of layout.model.slots.entries()) {
    const { I, O } = s;
    if (layout.narrow[l]) {
      k.max_norm_vectors(O, grainOf(O, k.threads, 1), { W: W[l], K: I, stride: 1, unit: I, c });
      continue;
    }
    // whole groups of 16 columns: all of a panelled W^T (its floats include the padding), the full ones of a row-major one
    const groups = layout.psW[l] === ROW_MAJOR ? Math.floor(O / PANEL_Q) : layout.wFloats[l] / (I * PANEL_Q);
    if (groups > 0) k.max_norm_cols(groups, grainOf(groups, k.threads, 1), { W: W[l], R: I, ld: layout.ldW[l], ps: layout.psW[l], c });
    const rest = O - groups * PANEL_Q;
    if (rest > 0) {
      const at = k.address(W[l]) + 4 * groups * PANEL_Q;
      k.max_norm_vectors(rest, grainOf(rest, k.threads, 1), { W: at, K: I, stride: layout.ldW[l], unit: 1, c });
    }
  }
}
