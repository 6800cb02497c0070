// The fast pass's buffer plan: the policies that size its scratch, and the
// bytes it allocates in the WebAssembly memory for a network and a batch
// (wasm-pass.ts allocates exactly this; test/model/memory.test.ts holds the
// two equal, and src/train/memory.ts counts it in a run's estimate).
import { panelFloats } from '../kernels/wasm/gemm-wat.js';

/**
 * Batches up to this size get a CSR slot per pair (csr_slots, built on every
 * thread; 12 bytes per pixel per row) and the first layer's weight gradient
 * through the sparse product; larger ones a compact CSR and gemm.
 */
export const SLOT_ROWS = 1024;
/** Floats of a gemm panel entry per k (gemm-wat.ts: 4 values + an offset). */
export const PANEL = 5;
/** The allocator's blocks (runtime.ts) are multiples of this many bytes. */
const ALIGN = 64;
const aligned = (bytes: number): number => Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);

/** Floats of the fast pass's parameter layout (wasm-layout.ts): W_0^T in 16-column panels, the rest as they are. */
function workingCount(layers: readonly number[]): number {
  let P = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const I = layers[l];
    const O = layers[l + 1];
    P += (l === 0 ? panelFloats(I, O) : I * O) + O;
  }
  return P;
}

/** Bytes of the fast pass's working parameters, gradients and optimizer state (`stateTensors` tensors). */
export function wasmParameterBytes(layers: readonly number[], stateTensors: number): number {
  return (2 + stateTensors) * aligned(4 * workingCount(layers));
}

/**
 * Bytes the fast pass (WasmPass) allocates in the WebAssembly memory for a
 * batch of `capacity` rows: every block as wasm-pass.ts asks for it, rounded
 * to the allocator's 64 bytes. `nonZeros(rows)` is the data's bound on the
 * non-zero inputs of `rows` rows (only asked for large batches).
 */
export function wasmPassBytes(
  layers: readonly number[],
  capacity: number,
  stateTensors: number,
  threads: number,
  nonZeros?: (rows: number) => number,
): number {
  const f32 = (floats: number): number => aligned(4 * floats);
  const I0 = layers[0];
  const L = layers.length - 1;
  let bytes = wasmParameterBytes(layers, stateTensors) + f32(capacity * I0);
  for (let l = 0; l < L; l++) bytes += 4 * f32(capacity * layers[l + 1]); // Z, A, dA, delta
  let widestDense = 0; // W_l [O, I] for dA_{l-1}: layers l >= 1 with 16 outputs or more
  for (let l = 1; l < L; l++) if (layers[l + 1] >= 16) widestDense = Math.max(widestDense, layers[l] * layers[l + 1]);
  bytes += aligned(4 * Math.max(1, widestDense));
  const slots = capacity <= SLOT_ROWS;
  const nnz = slots ? 2 * Math.ceil(capacity / 2) * I0 : nonZeros && capacity * I0 > 1 << 22 ? nonZeros(capacity) : capacity * I0;
  bytes += aligned(8 * Math.ceil(capacity / 2)) + aligned(12 * nnz);
  if (slots) bytes += aligned(8 * Math.ceil(I0 / 2)) + aligned(12 * Math.ceil(I0 / 2) * capacity);
  bytes += aligned(threads * 4 * PANEL * Math.max(capacity, ...layers));
  return bytes;
}
