// The large-batch sparse products of the first layer (sparse-wat.ts, csr-wat.ts)
// against the paths they replace, bit for bit, on awkward shapes and on 1 and 2
// threads: spmm_x (each thread builds the CSR of a few row pairs in its scratch)
// against csr_pairs + spmm over the whole CSR; spmm_xt (the same over pixel
// pairs) against gemm's X^T delta on packed panels, which large batches ran
// before. Both skip only zero terms, and each C entry sums its terms in the same
// order with the same operations, so the bits must be equal; the paths they are
// held to are checked against float64 in wasm.test.ts. The columns past the
// last 8 of the forward product sum by f32.mul then f32.add: those are also held
// to that sum computed here (Math.fround of each double operation is the float32
// operation's result), since spmm_x and spmm share that code. col_sums (row by
// row) is held to the float32 sum in ascending rows, likewise.
import { describe, expect, it } from 'vitest';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { runGemm } from '../../src/kernels/wasm/gemm-job.js';
import { panelFloats, ROW_MAJOR } from '../../src/kernels/wasm/gemm-wat.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { SPMM_TILE_Q, sparseScratchBytes, X_PAIRS, XT_PAIRS } from '../../src/kernels/wasm/sparse-wat.js';

const rt = wasmRuntime().runtime!;
const h = rt.heap;
const k = moduleCalls(rt);

/** float32 values with a fraction `zeros` of zeros (some of them -0), the rest in [-1, 1). */
function data(n: number, seed: number, zeros: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    a[i] = r < zeros ? (r < zeros / 8 ? -0 : 0) : 2 * ((s >>> 8) / 2 ** 24) - 1;
  }
  return a;
}

/** Rows like MNIST's and worse: row 0 all zero, row 2 all non-zero, long zero runs. */
function pixels(rows: number, K: number, seed: number): Float32Array {
  const X = data(rows * K, seed, 0.75);
  if (rows > 1) X.fill(0, 0, K);
  if (rows > 2) X.fill(0.5, 2 * K, 3 * K);
  for (let r = 3; r < rows; r += 4) X.fill(0, r * K, r * K + Math.floor(K / 2));
  return X;
}

/**
 * Columns q >= 8 floor(Q / 8) of C + X B as f32.mul then f32.add in ascending k, over the k where
 * row p or its pair row is non-zero (the CSR's entries); the other columns 0.
 */
function unfusedTail(C0: Float32Array, X: Float32Array, B: Float32Array, P: number, K: number, Q: number): Float32Array {
  const C = new Float32Array(P * Q);
  for (let p = 0; p < P; p++) {
    const pair = p ^ 1;
    for (let q = Q - (Q % 8); q < Q; q++) {
      let s = C0[p * Q + q];
      for (let i = 0; i < K; i++) {
        if (X[p * K + i] !== 0 || (pair < P && X[pair * K + i] !== 0)) s = Math.fround(s + Math.fround(X[p * K + i] * B[i * Q + q]));
      }
      C[p * Q + q] = s;
    }
  }
  return C;
}

const put = (a: Float32Array): number => {
  const at = h.alloc(4 * Math.max(1, a.length));
  h.f32(at, a.length).set(a);
  return at;
};
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** M [R, Q] row-major -> 16-column panels (the padding NaN: it must never be read). */
function toPanels(M: Float32Array, R: number, Q: number): Float32Array {
  const out = new Float32Array(panelFloats(R, Q)).fill(NaN);
  for (let r = 0; r < R; r++) for (let q = 0; q < Q; q++) out[(q >> 4) * 16 * R + r * 16 + (q & 15)] = M[r * Q + q];
  return out;
}

describe('spmm_x: the forward product of large batches, a CSR block per thread', () => {
  // P: one row, an odd row count, past one block of X_PAIRS pairs; K: 1, not a multiple of 4, MNIST's;
  // Q: 1, 3 (one at a time), 10, 12 (8 + 4), 28 (16 + 8 + 4), 31, 300 (18 x 16 + 8 + 4)
  it.each([
    [1, 784, 10], [7, 9, 3], [2 * X_PAIRS + 1, 13, 28], [131, 784, 300], [64, 5, 12], [40, 1, 31], [9, 30, 1],
  ])('P=%i K=%i Q=%i: C + X B equals csr_pairs + spmm bit for bit, B row-major and in panels, on 1 and 2 threads', (P, K, Q) => {
    const X = pixels(P, K, P * 7 + K), B = data(K * Q, Q + 3, 0.1), C0 = data(P * Q, 5, 0);
    const x = put(X), c = put(C0), pairs = Math.ceil(P / 2);
    const R = h.alloc(8 * pairs), E = h.alloc(12 * 2 * pairs * K);
    const scratch = sparseScratchBytes(K, 1), S = h.alloc(2 * scratch);
    const tail = unfusedTail(C0, X, B, P, K, Q);
    for (const panels of [false, true]) {
      const b = put(panels ? toPanels(B, K, Q) : B);
      const [ldb, bps] = panels ? [16, 16 * K] : [Q, ROW_MAJOR];
      const product = { C: c, ldc: Q, cps: ROW_MAJOR, B: b, bps, Q, acc: 1 };
      h.f32(c, P * Q).set(C0);
      k.csr_pairs({ X: x, N: P, K, ldb, R, E });
      k.spmm(Math.ceil(Q / SPMM_TILE_Q), 1, { ...product, R, P });
      const ref = h.f32(c, P * Q).slice();
      for (let i = 0; i < P * Q; i++) if (i % Q >= Q - (Q % 8)) expect(ref[i], `C[${Math.floor(i / Q)}, ${i % Q}]`).toBe(tail[i]);
      for (const threads of [1, 2]) {
        rt.setThreads(threads);
        for (const grain of [1, X_PAIRS, pairs]) {
          h.f32(c, P * Q).set(C0);
          k.spmm_x(pairs, grain, { ...product, X: x, K, P, ldb }, S, scratch);
          expect(same(h.f32(c, P * Q), ref), `panels ${panels}, ${threads} threads, grain ${grain}`).toBe(true);
        }
      }
      rt.setThreads(1);
      h.release(b);
    }
    expect(Array.from(h.f32(x, P * K))).toEqual(Array.from(X)); // X unchanged
    for (const at of [x, c, R, E, S]) h.release(at);
  });
});

describe('spmm_xt: the weight gradient X^T delta of large batches, per block of samples', () => {
  // K (pixels, rows of C): 1, 2, odd (a pair with one pixel), not a multiple of 4 (gemm's 1-row tiles and
  // its unfused corner), MNIST's; N: 1, a few, two blocks; Q as for spmm_x
  it.each([
    [1, 1, 1], [2, 3, 10], [5, 33, 12], [13, 40, 28], [29, 70, 300], [2 * XT_PAIRS + 3, 17, 7], [784, 300, 300], [30, 64, 20],
  ])('K=%i N=%i Q=%i: X^T B equals gemm on packed panels bit for bit, C in panels and row-major, in blocks, on 1 and 2 threads', (K, N, Q) => {
    const X = pixels(N, K, K * 3 + N), D = data(N * Q, Q + 11, 0.02);
    const x = put(X), d = put(D), pairs = Math.ceil(K / 2);
    const gemmScratch = 4 * 5 * Math.max(N, 8), G = h.alloc(2 * gemmScratch);
    const scratch = sparseScratchBytes(1, N), S = h.alloc(2 * scratch);
    for (const panels of [false, true]) {
      const floats = panels ? panelFloats(K, Q) : K * Q;
      const c = put(new Float32Array(floats).fill(NaN));
      const C = { C: c, ldc: panels ? 16 : Q, cps: panels ? 16 * K : ROW_MAJOR };
      runGemm(k, { at: G, bytes: gemmScratch }, { ...C, A: x, ars: 1, aks: K, B: d, ldb: Q, bps: ROW_MAJOR, P: K, Q, K: N, acc: 0 });
      const ref = h.f32(c, floats).slice();
      for (const threads of [1, 2]) {
        rt.setThreads(threads);
        // all samples at once, and two blocks of samples (the second adds into the first's sums)
        for (const split of [N, Math.ceil(N / 2)]) {
          h.f32(c, floats).fill(panels ? NaN : -1);
          for (let n0 = 0; n0 < N; n0 += split) {
            const rows = Math.min(split, N - n0);
            k.spmm_xt(pairs, 1, { ...C, X: x + 4 * n0 * K, K, N: rows, B: d + 4 * n0 * Q, ldb: Q, bps: ROW_MAJOR, Q, acc: n0 > 0 ? 1 : 0 }, S, scratch);
          }
          const got = h.f32(c, floats);
          expect(same(got, ref), `panels ${panels}, ${threads} threads, blocks of ${split}`).toBe(true);
        }
      }
      rt.setThreads(1);
      h.release(c);
    }
    for (const at of [x, d, G, S]) h.release(at);
  });
});

describe('col_sums, row by row', () => {
  it.each([[1, 1], [7, 3], [60, 10], [130, 301], [5, 17]])('N=%i O=%i: the float32 sums in ascending rows, on any split of the columns', (N, O) => {
    const D = data(N * O, N + O, 0.1);
    const ref = new Float32Array(O);
    for (let q = 0; q < O; q++) {
      let s = 0;
      for (let n = 0; n < N; n++) s = Math.fround(s + D[n * O + q]);
      ref[q] = s;
    }
    const d = put(D), db = put(new Float32Array(O).fill(NaN));
    for (const threads of [1, 2]) {
      rt.setThreads(threads);
      for (const grain of [1, 4, 5, O]) {
        h.f32(db, O).fill(NaN);
        k.col_sums(O, grain, { db, D: d, N, O });
        expect(same(h.f32(db, O), ref), `${threads} threads, grain ${grain}`).toBe(true);
      }
    }
    rt.setThreads(1);
    h.release(d);
    h.release(db);
  });
});
