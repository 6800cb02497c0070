// The fast pass's buffer plan: the policies that size its scratch, and the
// bytes it allocates in the WebAssembly memory for a network and a batch
// (wasm-pass.ts allocates exactly this; test/model/memory.test.ts holds the
// two equal, and src/train/memory.ts counts it in a run's estimate).
import { L2_BLOCK } from '../kernels/wasm/l2-wat.js';
import { sparseScratchBytes } from '../kernels/wasm/sparse-wat.js';
import { layerShapes } from './shape.js';
import { rowStride, weightFloats } from './wasm-layout.js';

/**
 * Batches up to this size get whole CSRs of the first layer's input, a slot
 * per pair (csr_slots, built on every thread; 12 bytes per pixel per row);
 * larger ones none: each thread builds the CSR of a few pairs in its scratch
 * (spmm_x, spmm_xt; wasm-sparse-layer.ts).
 */
export const SLOT_ROWS = 1024;
/** Samples per spmm_xt call of a large batch's weight gradient: a block of delta [512, 300] is 600 KB, within a core's L2. */
export const XT_BLOCK = 512;
/** Floats of a gemm panel entry per k (gemm-wat.ts: 4 values + an offset). */
export const PANEL = 5;
/** The allocator's blocks (runtime.ts) are multiples of this many bytes. */
const ALIGN = 64;
const aligned = (bytes: number): number => Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);

// Every function takes the unit counts and `pieces`, k of maxout hidden layers
// (1 otherwise), and works on the layers' shapes (shape.ts): W_l [O, I] with
// O = H k for a maxout layer, whose Z and delta have O columns, A and dA H.

/**
 * Floats of the buffers a dense layer's backward needs (wasm-pass.ts), l >= 1
 * with 16 outputs or more. For batches up to SLOT_ROWS, dA_{l-1} [n, I] is
 * (W_l^T delta_l^T)^T: delta_l^T [O, n] in `deltaT`, the product in `dAT`
 * [I, n], two small transposes; and delta_l is copied into `deltaPad` with
 * rows rowStride(O) apart for dW_l^T = A_{l-1}^T delta_l, when that differs
 * from O. Larger batches, and shapes where the two products' edge tiles would
 * round differently (wasm-pass.ts), transpose W_l^T into `wRowMajor` [ld, I]
 * and read delta_l as it is.
 */
export function denseBackwardFloats(layers: readonly number[], capacity: number, pieces = 1): { deltaT: number; dAT: number; deltaPad: number; wRowMajor: number } {
  const dense = layerShapes(layers, pieces).filter((s, l) => l >= 1 && s.O >= 16);
  const most = (f: (s: { I: number; O: number }) => number): number => Math.max(0, ...dense.map(f));
  const wRowMajor = most((s) => s.I * rowStride(s.O));
  if (capacity > SLOT_ROWS) return { deltaT: 0, dAT: 0, deltaPad: 0, wRowMajor };
  return {
    deltaT: capacity * most((s) => s.O),
    dAT: capacity * most((s) => s.I),
    deltaPad: capacity * most((s) => (rowStride(s.O) === s.O ? 0 : rowStride(s.O))),
    wRowMajor,
  };
}

/**
 * Whether the dense layers l >= 1 (16 outputs or more) run their forward and
 * weight-gradient products over compressed pairs of their input
 * (wasm-sparse-layer.ts), as the first layer does over X: relu outputs are
 * zero for every inactive unit (half or more), and dropout zeros more. Batches
 * up to SLOT_ROWS only (whole CSRs), and O a multiple of 8: past the last 8
 * columns gemm and spmm round differently; other units keep the dense gemm,
 * whose bits the sparse products give.
 */
export function sparseHidden(hidden: string, capacity: number, O: number): boolean {
  return hidden === 'relu' && capacity <= SLOT_ROWS && O % 8 === 0;
}

/** Floats of the fast pass's parameter layout: each W_l and b_l. */
function workingCount(layers: readonly number[], pieces: number): number {
  let P = 0;
  for (const [l, s] of layerShapes(layers, pieces).entries()) P += weightFloats(s, l) + s.O;
  return P;
}

/** The L2 term's block sums (l2-wat.ts): one per L2_BLOCK floats of each W_l, the last block of a layer partial. */
export function l2Blocks(layers: readonly number[], pieces = 1): number[] {
  return layerShapes(layers, pieces).map((s, l) => Math.ceil(weightFloats(s, l) / L2_BLOCK));
}

/** Bytes of the fast pass's working parameters, gradients and optimizer state (`stateTensors` tensors). */
export function wasmParameterBytes(layers: readonly number[], stateTensors: number, pieces = 1): number {
  return (2 + stateTensors) * aligned(4 * workingCount(layers, pieces));
}

/**
 * Bytes of each thread's scratch: gemm's packed panels (a PANEL-float entry
 * per k, for K up to the batch or a layer width), and for large batches the
 * CSR blocks of spmm_x and spmm_xt.
 */
export function scratchBytes(layers: readonly number[], capacity: number, pieces = 1): number {
  const panels = 4 * PANEL * Math.max(capacity, layers[0], ...layerShapes(layers, pieces).map((s) => s.O));
  return aligned(capacity <= SLOT_ROWS ? panels : Math.max(panels, sparseScratchBytes(layers[0], XT_BLOCK)));
}

/**
 * Bytes the fast pass (WasmPass) allocates in the WebAssembly memory for a
 * batch of `capacity` rows and `hidden` units: every block as wasm-pass.ts asks
 * for it, rounded to the allocator's 64 bytes.
 */
export function wasmPassBytes(layers: readonly number[], capacity: number, stateTensors: number, threads: number, pieces = 1, hidden = 'sigmoid'): number {
  const f32 = (floats: number): number => aligned(4 * floats);
  const I0 = layers[0];
  const shapes = layerShapes(layers, pieces);
  let bytes = wasmParameterBytes(layers, stateTensors, pieces) + f32(capacity * I0);
  for (const s of shapes) bytes += 2 * f32(capacity * s.O) + 2 * f32(capacity * s.units); // Z, A, dA, delta
  for (const floats of Object.values(denseBackwardFloats(layers, capacity, pieces))) bytes += floats > 0 ? f32(floats) : 0;
  bytes += aligned(8 * l2Blocks(layers, pieces).reduce((a, b) => a + b, 0));
  if (capacity <= SLOT_ROWS) {
    // the CSRs of the input's row pairs and column pairs (wasm-sparse-layer.ts): X's, and a sparse hidden layer's A_{l-1}
    const slots = (I: number): number =>
      aligned(8 * Math.ceil(capacity / 2)) + aligned(12 * 2 * Math.ceil(capacity / 2) * I) + aligned(8 * Math.ceil(I / 2)) + aligned(12 * Math.ceil(I / 2) * capacity);
    bytes += slots(I0);
    for (const [l, s] of shapes.entries()) if (l >= 1 && s.O >= 16 && sparseHidden(hidden, capacity, s.O)) bytes += slots(s.I);
  }
  bytes += aligned(threads * scratchBytes(layers, capacity, pieces));
  return bytes;
}
