// The fast pass's backward through a dense layer l >= 1 (16 outputs or more),
// whose W_l^T [I, O] is row-major with rows ld = rowStride(O) floats apart
// (wasm-layout.ts):
//
//   weight grad  dW_l^T [I, O]  = A_{l-1}^T delta_l
//   input grad   dA_{l-1} [n, I] = delta_l W_l
//
// Batches up to SLOT_ROWS rows: delta_l's rows are copied ld apart, so that
// the weight gradient's reads of B spread over the cache sets as W_l^T's do,
// and dA_{l-1} = (W_l^T delta_l^T)^T, with delta_l^T [O, n] and the product
// [I, n] in small buffers: the same sums in the same order as delta_l W_l,
// without transposing the 4 MB W_l^T each batch. Larger batches (no buffers
// of the batch's size) transpose W_l^T into W_l [ld, I] and read delta_l as it
// is. The buffers are wasm-buffers.ts's denseBackwardFloats.
//
// The two forms of dA_{l-1} give the same bits except at gemm's scalar corner
// (rows past the last 4, columns past the last 8: mul then add, not fused,
// gemm-wat.ts), which is [n, I]'s in one and [I, n]'s in the other: the
// transposed form is taken only when neither has one.
import type { ModuleCalls, Operand } from '../kernels/wasm/calls.js';
import type { GemmOperands } from '../kernels/wasm/gemm-job.js';
import { ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import { grainOf } from '../kernels/wasm/pool.js';
import type { SparseLayer } from './wasm-sparse-layer.js';

/** The byte addresses of the backward's buffers (0: none). */
export type DenseBuffers = Record<'deltaT' | 'dAT' | 'deltaPad' | 'wRowMajor', number>;

/** One dense layer's operands: W_l^T with rows ld apart, its gradient in the same layout, delta_l [n, O], A_{l-1} and dA_{l-1} [n, I]. */
export interface DenseLayer {
  I: number;
  O: number;
  ld: number;
  W: Float32Array;
  dW: Float32Array;
  delta: Float32Array;
  input: Float32Array;
  dA: Float32Array;
}

/** A gemm has a scalar corner when its rows are not a multiple of 4 and its columns not of 8. */
const corner = (rows: number, cols: number): boolean => rows % 4 !== 0 && cols % 8 !== 0;

/** dW_l^T and dA_{l-1} for a batch of n rows; `gemm` runs C (+)= A B on every thread, `sparse` (if any) the weight gradient over A_{l-1}'s zeros. */
export function denseBackward(k: ModuleCalls, gemm: (g: GemmOperands) => void, buf: DenseBuffers, d: DenseLayer, n: number, sparse: SparseLayer | null): void {
  const { I, O, ld, delta } = d;
  let B: Operand = delta;
  let ldb = O;
  if (ld !== O && buf.deltaPad !== 0) {
    k.copy_rows(n, grainOf(n, k.threads, 1, 32), { dst: buf.deltaPad, ldd: ld, src: delta, lds: O, cols: O });
    [B, ldb] = [buf.deltaPad, ld];
  }
  if (sparse) sparse.weightGradient(d.dW, d.input, B, n, ldb);
  else gemm({ C: d.dW, ldc: ld, cps: ROW_MAJOR, A: d.input, ars: 1, aks: I, B, ldb, bps: ROW_MAJOR, P: I, Q: O, K: n, acc: 0 });
  if (buf.deltaT !== 0 && !corner(n, I) && !corner(I, n)) {
    k.transpose({ dst: buf.deltaT, src: delta, rows: n, cols: O });
    gemm({ C: buf.dAT, ldc: n, cps: ROW_MAJOR, A: d.W, ars: ld, aks: 1, B: buf.deltaT, ldb: n, bps: ROW_MAJOR, P: I, Q: n, K: O, acc: 0 });
    k.transpose({ dst: d.dA, src: buf.dAT, rows: I, cols: n });
  } else {
    k.transpose({ dst: buf.wRowMajor, src: d.W, rows: I, cols: ld });
    gemm({ C: d.dA, ldc: I, cps: ROW_MAJOR, A: delta, ars: O, aks: 1, B: buf.wRowMajor, ldb: I, bps: ROW_MAJOR, P: n, Q: I, K: O, acc: 0 });
  }
}
