// The fast pass's max-norm (max-norm.ts has the rule and the reference): on
// the working layout (wasm-layout.ts), where a unit's incoming weights are a
// column of W_l^T [I, O] (in 16-column panels for l = 0, row-major
// otherwise), or a row of a narrow layer's W_l [O, I]. Full 16-column groups
// go to max_norm_cols (a panelled layer's last group is padded with zero
// columns, whose norm 0 leaves them alone); a row-major W^T's last columns
// and a narrow layer's rows to max_norm_vectors. Every vector is handled by
// one thread in the reference's order: the bits are the reference's.
import type { ModuleCalls } from '../kernels/wasm/calls.js';
import { PANEL_Q } from '../kernels/wasm/gemm-wat.js';
import { grainOf } from '../kernels/wasm/pool.js';
import type { WasmLayout } from './wasm-layout.js';

const halves = new Int32Array(2);
const value = new Float64Array(halves.buffer);

/** Max-norm c on the working weights W (views in the layout's order). */
export function moduleMaxNorm(k: ModuleCalls, layout: WasmLayout, W: readonly Float32Array[], c: number): void {
  value[0] = c;
  const c_lo = halves[0];
  const c_hi = halves[1];
  for (const [l, s] of layout.model.slots.entries()) {
    const { I, O } = s;
    if (layout.narrow[l]) {
      k.max_norm_vectors(O, grainOf(O, k.threads, 1), { W: W[l], K: I, stride: 1, unit: I, c_lo, c_hi });
      continue;
    }
    // whole groups of 16 columns: all of a panelled W^T (its floats include the padding), the full ones of a row-major one
    const groups = Math.floor(layout.wFloats[l] / (I * PANEL_Q));
    if (groups > 0) k.max_norm_cols(groups, grainOf(groups, k.threads, 1), { W: W[l], R: I, ld: layout.ldW[l], ps: layout.psW[l], c_lo, c_hi });
    const rest = O - groups * PANEL_Q;
    if (rest > 0) {
      const at = k.address(W[l]) + 4 * groups * PANEL_Q;
      k.max_norm_vectors(rest, grainOf(rest, k.threads, 1), { W: at, K: I, stride: layout.ldW[l], unit: 1, c_lo, c_hi });
    }
  }
}
