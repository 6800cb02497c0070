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
import type { GemmOperands, PanelScratch } from '../kernels/wasm/gemm-job.js';
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

/**
 * Above this fraction of non-zero input values the first layer runs the dense
 * gemm instead: the compressed products pay per stored entry (the CSR build,
 * an index read per value), so they win only while they skip enough. Measured
 * (README, "Fashion-MNIST (issue 15)": CPU time of one thread, forward and weight gradient
 * together, 128 rows of Fashion-MNIST thinned or filled to each density) they
 * cost 0.67-0.87 of gemm from 20% to 60% non-zero, 0.95-0.97 at 80%, and
 * 0.97-1.03 at 100%: the break-even lies near 90%. MNIST's pixels are 19%
 * non-zero, Fashion-MNIST's 50%: both stay sparse.
 */
export const SPARSE_MAX_DENSITY = 0.9;

/** Whether an input with this fraction of non-zero values (after input dropout) goes through the sparse products. */
export const sparseInput = (density: number): boolean => density <= SPARSE_MAX_DENSITY;

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
  /** Dense input (sparseInput false): both products run on this gemm instead, and no CSR is kept. */
  private readonly gemm: ((g: GemmOperands) => void) | null;

  constructor(k: ModuleCalls, alloc: (bytes: number) => number, capacity: number, shape: SparseLayerShape, scratch: PanelScratch, gemm: ((g: GemmOperands) => void) | null = null) {
    this.k = k;
    this.s = shape;
    this.scratch = scratch;
    this.gemm = gemm;
    const pairs = Math.ceil(capacity / 2);
    const pixelPairs = Math.ceil(shape.I / 2);
    this.slots =
      capacity <= SLOT_ROWS && gemm === null
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
    if (this.gemm) {
      this.gemm({ C: Z, ldc: s.O, cps: ROW_MAJOR, A: X, ars: s.I, aks: 1, ldb: s.ldW, P: n, K: s.I, ...B });
    } else if (slots) {
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
    if (this.gemm) {
      this.gemm({ ...C, A: X, ars: 1, aks: s.I, B: delta, ldb: ldDelta, bps: ROW_MAJOR, P: s.I, Q: s.O, K: n, acc: 0 });
      return;
    }
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
