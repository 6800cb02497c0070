// A layer whose input has many exact zeros: the first, whose input X is MNIST
// pixels (81% zero), and a hidden layer after relu units (half or more zero;
// wasm-buffers.ts sparseHidden). Its products run over compressed pairs
// (sparse-wat.ts) and skip the zeros, with the dense products' bits.
//
//   forward      Z_l += X W_l^T          over X's row pairs (samples)
//   weight grad  dW_l^T = X^T delta_l    over X's column pairs (pixels, units)
//
// (X is the layer's input: MNIST's pixels, or A_{l-1}; W_l^T in 16-column
// panels for l = 0, row-major for the others.)
// Batches up to SLOT_ROWS rows build each CSR whole (csr_slots, a slot per
// pair, on every thread) and split the product by column tiles. Larger (full)
// batches hold no CSR: each thread builds the CSR of a few pairs in its
// scratch and multiplies it while it is in cache (spmm_x over row pairs;
// spmm_xt over pixel pairs, per block of XT_BLOCK samples, adding into dW_0
// in ascending samples).
import type { ModuleCalls } from '../kernels/wasm/calls.js';
import type { PanelScratch } from '../kernels/wasm/gemm-job.js';
import { ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import { grainOf, tileGrain } from '../kernels/wasm/pool.js';
import { SPMM_TILE_Q, X_PAIRS, XT_PAIRS } from '../kernels/wasm/sparse-wat.js';
import { SLOT_ROWS, XT_BLOCK } from './wasm-buffers.js';

/** W_0's shape and working layout: I inputs, O outputs, W_0^T [I, O] with row stride ldW and panel stride psW (floats). */
export interface SparseLayerShape {
  I: number;
  O: number;
  ldW: number;
  psW: number;
}

interface Csr {
  R: number;
  E: number;
}

export class SparseLayer {
  private readonly k: ModuleCalls;
  private readonly s: SparseLayerShape;
  /** Batches of up to SLOT_ROWS rows: the CSR of X's row pairs, and of its pixel pairs (dW_0); null for larger batches. */
  private readonly slots: { rows: Csr; cols: Csr } | null;
  /** Per-thread scratch of spmm_x and spmm_xt (gemm's panel scratch, sized for both by wasm-buffers.ts). */
  private readonly scratch: PanelScratch;

  constructor(k: ModuleCalls, alloc: (bytes: number) => number, capacity: number, shape: SparseLayerShape, scratch: PanelScratch) {
    this.k = k;
    this.s = shape;
    this.scratch = scratch;
    const pairs = Math.ceil(capacity / 2);
    const pixelPairs = Math.ceil(shape.I / 2);
    this.slots =
      capacity <= SLOT_ROWS
        ? {
            rows: { R: alloc(8 * pairs), E: alloc(12 * 2 * pairs * shape.I) }, // a slot of I entries per row pair
            cols: { R: alloc(8 * pixelPairs), E: alloc(12 * pixelPairs * capacity) }, // a slot of capacity entries per pixel pair
          }
        : null;
  }

  /** Z [n, O] += X [n, I] W^T, W^T in the working layout. */
  forward(Z: Float32Array, X: Float32Array, W: Float32Array, n: number): void {
    const { k, s, slots } = this;
    const pairs = Math.ceil(n / 2);
    const B = { B: W, bps: s.psW, Q: s.O, acc: 1 };
    if (slots) {
      k.csr_slots(pairs, grainOf(pairs, k.threads, 1, 8), { X, count: s.I, step: 4, second: 4 * s.I, pair: 8 * s.I, total: n, ldb: s.ldW, ...slots.rows });
      const tiles = Math.ceil(s.O / SPMM_TILE_Q);
      k.spmm(tiles, tileGrain(tiles, k.threads), { C: Z, ldc: s.O, cps: ROW_MAJOR, R: slots.rows.R, P: n, ...B });
    } else {
      const args = { C: Z, ldc: s.O, cps: ROW_MAJOR, X, K: s.I, P: n, ldb: s.ldW, ...B };
      k.spmm_x(pairs, grainOf(pairs, k.threads, X_PAIRS), args, this.scratch.at, this.scratch.bytes);
    }
  }

  /** dW^T [I, O] (working layout) = X [n, I]^T delta [n, O] (rows ldDelta apart): samples where both inputs of a pair are 0 are skipped. */
  weightGradient(dW: Float32Array, X: Float32Array, delta: Float32Array | number, n: number, ldDelta = this.s.O): void {
    const { k, s, slots } = this;
    const pairs = Math.ceil(s.I / 2);
    const C = { C: dW, ldc: s.ldW, cps: s.psW };
    if (slots) {
      k.csr_slots(pairs, grainOf(pairs, k.threads, 1, 16), { X, count: n, step: 4 * s.I, second: 4, pair: 8, total: s.I, ldb: ldDelta, ...slots.cols });
      const tiles = Math.ceil(s.O / SPMM_TILE_Q);
      k.spmm(tiles, tileGrain(tiles, k.threads), { ...C, R: slots.cols.R, P: s.I, B: delta, bps: ROW_MAJOR, Q: s.O, acc: 0 });
      return;
    }
    // blocks of samples, so a block of delta stays in cache while every pixel pair reads it
    const x = k.address(X);
    const d = k.address(delta);
    for (let n0 = 0; n0 < n; n0 += XT_BLOCK) {
      const args = { ...C, X: x + 4 * n0 * s.I, K: s.I, N: Math.min(XT_BLOCK, n - n0), B: d + 4 * n0 * s.O, ldb: s.O, bps: ROW_MAJOR, Q: s.O, acc: n0 > 0 ? 1 : 0 };
      k.spmm_xt(pairs, XT_PAIRS, args, this.scratch.at, this.scratch.bytes);
    }
  }
}
