// The WebAssembly SIMD kernels against a float64 reference, on awkward shapes.
// They sum in float32 (4 lanes, fused multiply-add), so they cannot equal the
// float64-accumulating TypeScript kernels bit for bit; each entry must stay
// within the classic bound for a float32 dot product of length K:
//   |fl(Σ a_k b_k) - Σ a_k b_k| <= γ_K Σ |a_k b_k|,  γ_K = K u / (1 - K u), u = 2^-24,
// plus the rounding of the stored result (u |result|).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matmulBackwardNaive, matmulForwardNaive, selectKernels } from '../../src/kernels/matmul.js';
import { wasmKernels } from '../../src/kernels/wasm/gemm.js';
import { panelFloats, ROW_MAJOR } from '../../src/kernels/wasm/gemm-wat.js';
import { wasmFile } from '../../src/kernels/wasm/files.js';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { runGemm } from '../../src/kernels/wasm/gemm-job.js';
import { FN } from '../../src/kernels/wasm/signatures.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { reluBackward, reluForward } from '../../src/kernels/activations.js';
import { Rng } from '../../src/rng.js';

const u = 2 ** -24;
const gamma = (K: number): number => (K * u) / (1 - K * u);

// N = 1, N not a multiple of the 4-row tile, O = 10 (8 + 2 scalar columns),
// I not a multiple of 8, tile-exact shapes, and the default network's layers.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 784, 10],
  [5, 9, 10],
  [6, 8, 8],
  [7, 17, 13],
  [13, 30, 10],
  [100, 784, 300],
  [128, 800, 10],
  [3001, 64, 200], // the weight gradient's K = 3001 samples runs in blocks of K
];

/** float32 data with a fraction of exact zeros (rows of MNIST are mostly zero). */
function data(n: number, seed: number, zeros = 0.5): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    a[i] = r < zeros ? 0 : 2 * ((s >>> 8) / 2 ** 24) - 1;
  }
  return a;
}

/** Reference and bound of Σ_k terms(k) in float64. */
function expectWithinBound(label: string, got: Float32Array, ref: Float64Array, abs: Float64Array, K: number): void {
  for (let i = 0; i < ref.length; i++) {
    const bound = gamma(K + 1) * abs[i] + u * Math.abs(ref[i]) + 1e-30;
    if (!(Math.abs(got[i] - ref[i]) <= bound)) {
      expect.fail(`${label}[${i}]: ${got[i]} vs ${ref[i]}, |diff| ${Math.abs(got[i] - ref[i])} > bound ${bound}`);
    }
  }
}

describe('WebAssembly SIMD kernels', () => {
  it('load on this Node with relaxed-SIMD fused multiply-add (the fallback is plain SIMD, then TypeScript)', () => {
    const { kernels, reason } = wasmKernels();
    expect(kernels, reason).not.toBeNull();
    expect(kernels!.variant).toBe('fma');
    expect(selectKernels('wasm').name).toBe('wasm-fma');
  });

  const k = selectKernels('wasm').kernels;

  it.each(SHAPES)('forward, dX, dW, db within the float32 bound of float64, N=%i I=%i O=%i', (N, I, O) => {
    // Odd N: mostly-zero X (the sparse dW path); even N: dense X.
    const X = data(N * I, N + 1, N % 2 ? 0.6 : 0.05), W = data(O * I, I + 2, 0.1), b = data(O, 3, 0), dZ = data(N * O, O + 4, 0.2);
    const X64 = Float64Array.from(X), W64 = Float64Array.from(W), b64 = Float64Array.from(b), dZ64 = Float64Array.from(dZ);
    const abs = (a: Float64Array): Float64Array => a.map(Math.abs);

    const Z = new Float32Array(N * O).fill(NaN);
    k.forward(Z, X, W, b, N, I, O);
    const Zr = new Float64Array(N * O), Za = new Float64Array(N * O);
    matmulForwardNaive(Zr, X64, W64, b64, N, I, O);
    matmulForwardNaive(Za, abs(X64), abs(W64), abs(b64), N, I, O);
    expectWithinBound('Z', Z, Zr, Za, I);

    const dX = new Float32Array(N * I).fill(NaN), dW = new Float32Array(O * I).fill(NaN), db = new Float32Array(O).fill(NaN);
    k.backward(dX, dW, db, dZ, X, W, N, I, O);
    const dXr = new Float64Array(N * I), dWr = new Float64Array(O * I), dbr = new Float64Array(O);
    const dXa = new Float64Array(N * I), dWa = new Float64Array(O * I), dba = new Float64Array(O);
    matmulBackwardNaive(dXr, dWr, dbr, dZ64, X64, W64, N, I, O);
    matmulBackwardNaive(dXa, dWa, dba, abs(dZ64), abs(X64), abs(W64), N, I, O);
    expectWithinBound('dX', dX, dXr, dXa, O);
    expectWithinBound('dW', dW, dWr, dWa, N);
    expectWithinBound('db', db, dbr, dba, N);
  });

  it('all-zero and all-nonzero rows; inputs unchanged; the same call twice gives the same bits', () => {
    const N = 14, I = 40, O = 12;
    const X = data(N * I, 9, 0.3);
    X.fill(0, 0, I); // row 0 all zero
    for (let i = 0; i < I; i++) X[5 * I + i] = 0.25 + i / I; // row 5 all non-zero
    const W = data(O * I, 10, 0), b = data(O, 11, 0);
    const copy = [X.slice(), W.slice(), b.slice()];
    const Z1 = new Float32Array(N * O), Z2 = new Float32Array(N * O);
    k.forward(Z1, X, W, b, N, I, O);
    k.forward(Z2, X, W, b, N, I, O);
    expect(Array.from(Z2)).toEqual(Array.from(Z1));
    expect(Array.from(Z1.subarray(0, O))).toEqual(Array.from(b)); // zero row: the bias alone, exactly
    [X, W, b].forEach((a, j) => expect(Array.from(a)).toEqual(Array.from(copy[j])));
  });

  it('float64 operands go to the blocked kernel (exact against naive)', () => {
    const N = 3, I = 5, O = 4;
    const X = Float64Array.from(data(N * I, 1, 0)), W = Float64Array.from(data(O * I, 2, 0)), b = new Float64Array(O);
    const Z = new Float64Array(N * O), Zr = new Float64Array(N * O);
    k.forward(Z, X, W, b, N, I, O);
    matmulForwardNaive(Zr, X, W, b, N, I, O);
    expect(Array.from(Z)).toEqual(Array.from(Zr));
  });
});

describe('WebAssembly kernels on two threads', () => {
  it('give the same bits as one thread (every entry is summed by one thread, in the same order)', () => {
    const wasm = wasmKernels().kernels!;
    const k = selectKernels('wasm').kernels;
    const run = (threads: number): Float32Array[] => {
      wasm.setThreads(threads);
      const out: Float32Array[] = [];
      // [128, 784, 800]: split by column blocks (B = W^T does not fit a core's cache); the others by rows
      for (const [N, I, O] of [[100, 784, 300], [128, 800, 10], [37, 61, 45], [128, 784, 800]] as const) {
        const X = data(N * I, N, 0.8), W = data(O * I, I, 0.05), b = data(O, 5, 0), dZ = data(N * O, O, 0.1);
        const Z = new Float32Array(N * O), dX = new Float32Array(N * I), dW = new Float32Array(O * I), db = new Float32Array(O);
        k.forward(Z, X, W, b, N, I, O);
        k.backward(dX, dW, db, dZ, X, W, N, I, O);
        out.push(Z, dX, dW, db);
      }
      return out;
    };
    const one = run(1);
    const two = run(2);
    wasm.setThreads(1);
    expect(wasm.threads).toBe(1);
    two.forEach((a, j) => expect(Buffer.from(a.buffer).equals(Buffer.from(one[j].buffer)), `output ${j}`).toBe(true));
  });
});

describe('the module sigmoid', () => {
  it('is within 4 ulp of 1/(1+e^-z) over [-80, 80], keeps NaN, and saturates cleanly', () => {
    const { runtime: rt } = wasmRuntime();
    const n = 100_003; // not a multiple of 4: the one-lane tail runs too
    const z = rt!.heap.alloc(4 * n), a = rt!.heap.alloc(4 * n);
    const Z = rt!.heap.f32(z, n), A = rt!.heap.f32(a, n);
    for (let i = 0; i < n; i++) Z[i] = -80 + (160 * i) / (n - 1);
    const special = [NaN, Infinity, -Infinity, 0, -0, 88.7, -88.7, 1e30, -1e30];
    special.forEach((v, j) => (Z[n - 1 - j] = v));
    rt!.fns[FN.sigmoid](0, n, 0, a, z);
    let worst = 0;
    for (let i = 0; i < n - special.length; i++) {
      const ref = 1 / (1 + Math.exp(-Z[i]));
      // relative error in units of float32's spacing at the reference value
      worst = Math.max(worst, Math.abs(A[i] - ref) / (ref * 2 ** -23));
    }
    expect(worst).toBeLessThan(4);
    const got = special.map((_, j) => A[n - 1 - j]);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBe(1);
    expect(got[2]).toBeGreaterThanOrEqual(0);
    expect(got[2]).toBeLessThan(1e-37);
    expect(got[3]).toBe(0.5);
    expect(got[4]).toBe(0.5);
    expect(got[7]).toBe(1);
    expect(got[8]).toBeLessThan(1e-37);
    rt!.heap.release(z);
    rt!.heap.release(a);
  });
});

describe('the module relu', () => {
  // relu is a comparison, so the module must give activations.ts's bits exactly, specials included
  // (reluForward maps NaN and -0 to +0; reluBackward passes dA only where A > 0), over any split
  // of the range (the 4-lane body and the one-lane tail).
  it('gives reluForward and reluBackward bit for bit, NaN, -0, infinities and subnormals included', () => {
    const { runtime: rt } = wasmRuntime();
    const n = 10_007;
    const [z, a, g, d] = [0, 1, 2, 3].map(() => rt!.heap.alloc(4 * n));
    const [Z, A, G, D] = [z, a, g, d].map((at) => rt!.heap.f32(at, n));
    const rng = new Rng(11, 0);
    for (let i = 0; i < n; i++) {
      Z[i] = 4 * rng.uniform() - 2;
      G[i] = i % 17 === 0 ? NaN : 4 * rng.uniform() - 2;
    }
    const special = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38];
    special.forEach((v, j) => (Z[n - 1 - j] = v));
    rt!.fns[FN.relu](0, 4001, 0, a, z); // two calls: a split inside a 4-lane group
    rt!.fns[FN.relu](4001, n, 0, a, z);
    const wantA = new Float32Array(n);
    reluForward(wantA, Z, 1, n);
    expect(new Uint32Array(A.slice().buffer)).toEqual(new Uint32Array(wantA.buffer));
    rt!.fns[FN.relu_backward](0, n, 0, d, g, a);
    const wantD = new Float32Array(n);
    reluBackward(wantD, G, A, Z, 1, n);
    expect(new Uint32Array(D.slice().buffer)).toEqual(new Uint32Array(wantD.buffer));
    expect(A[n - 5]).toBe(0); // -0 in, +0 out
    expect(Object.is(A[n - 5], 0)).toBe(true);
    for (const at of [z, a, g, d]) rt!.heap.release(at);
  });
});

describe('the module softplus', () => {
  // The standard of the module sigmoid: 4 units of float32's spacing at the reference, over
  // [-80, 80] (elementwise-wat.ts budgets about 5 ulp for the worst case, errors aligned;
  // observed 1.7 forward, 1.2 backward). The reference is float64: max(z, 0) + log1p(e^-|z|).
  it('is within 4 ulp of ln(1 + e^z) over [-80, 80], its derivative of dA sigmoid(z); NaN stays NaN, infinities and huge z are clean', () => {
    const { runtime: rt } = wasmRuntime();
    const n = 100_003; // not a multiple of 4: the one-lane tail runs too
    const [z, a, g, d] = [0, 1, 2, 3].map(() => rt!.heap.alloc(4 * n));
    const [Z, A, G, D] = [z, a, g, d].map((at) => rt!.heap.f32(at, n));
    for (let i = 0; i < n; i++) {
      Z[i] = -80 + (160 * i) / (n - 1);
      G[i] = ((i % 13) - 6) / 3; // dA, of both signs
    }
    const special = [NaN, Infinity, -Infinity, 0, -0, 88.7, -88.7, 1e30, -1e30];
    special.forEach((v, j) => (Z[n - 1 - j] = v));
    rt!.fns[FN.softplus](0, n, 0, a, z);
    rt!.fns[FN.softplus_backward](0, n, 0, d, g, z);
    let worst = 0;
    let worstBack = 0;
    for (let i = 0; i < n - special.length; i++) {
      const ref = Math.max(Z[i], 0) + Math.log1p(Math.exp(-Math.abs(Z[i])));
      worst = Math.max(worst, Math.abs(A[i] - ref) / (ref * 2 ** -23));
      const back = G[i] / (1 + Math.exp(-Z[i]));
      if (back !== 0) worstBack = Math.max(worstBack, Math.abs(D[i] - back) / (Math.abs(back) * 2 ** -23));
      else expect(D[i]).toBe(0);
    }
    expect(worst).toBeLessThan(4);
    expect(worstBack).toBeLessThan(4);
    const got = special.map((_, j) => A[n - 1 - j]);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBe(Infinity);
    expect(got[2]).toBeGreaterThanOrEqual(0);
    expect(got[2]).toBeLessThan(1e-37);
    expect(got[3]).toBe(Math.fround(Math.LN2));
    expect(got[4]).toBe(Math.fround(Math.LN2));
    expect(got[5]).toBe(Math.fround(88.7));
    expect(got[6]).toBeLessThan(1e-37); // e^-88.7 = 3e-39 is subnormal; the module's e^x stops at 2^-126
    expect(got[7]).toBe(Math.fround(1e30));
    expect(got[8]).toBeLessThan(1e-37);
    const back = special.map((_, j) => D[n - 1 - j] / G[n - 1 - j]);
    expect(back[0]).toBeNaN();
    expect(back[1]).toBe(1);
    expect(back[3]).toBe(0.5);
    expect(Math.abs(back[8])).toBeLessThan(1e-37);
    for (const at of [z, a, g, d]) rt!.heap.release(at);
  });
});

describe('gemm with B and C in 16-column panels', () => {
  // M[r, q] at (q >> 4) * 16 R + r * 16 + (q & 15): the layout of the pass's W_0^T and dW_0^T
  const toPanels = (M: Float32Array, R: number, Q: number): Float32Array => {
    const out = new Float32Array(panelFloats(R, Q)).fill(NaN); // padding must never be read
    for (let r = 0; r < R; r++) for (let q = 0; q < Q; q++) out[(q >> 4) * 16 * R + r * 16 + (q & 15)] = M[r * Q + q];
    return out;
  };
  const fromPanels = (M: Float32Array, R: number, Q: number): Float32Array => {
    const out = new Float32Array(R * Q);
    for (let r = 0; r < R; r++) for (let q = 0; q < Q; q++) out[r * Q + q] = M[(q >> 4) * 16 * R + r * 16 + (q & 15)];
    return out;
  };
  // P = 1, P and Q not multiples of the tile, Q = 10 (one padded panel), 17 (one column past a panel),
  // the training shapes (forward 128x784x800 and the weight gradient 784x128x300), on 1 and 2 threads
  it.each([
    [1, 1, 1], [5, 10, 9], [7, 17, 13], [13, 33, 30], [128, 800, 784], [784, 300, 128], [9, 300, 784],
  ])('P=%i Q=%i K=%i: B, C or both in panels equal the row-major product bit for bit, within the float64 bound', (P, Q, K) => {
    const { runtime: rt } = wasmRuntime();
    const h = rt!.heap;
    const A = data(P * K, P + K, 0.6), B = data(K * Q, Q, 0.1);
    const ref = new Float64Array(P * Q), abs = new Float64Array(P * Q);
    for (let p = 0; p < P; p++) for (let k = 0; k < K; k++) for (let q = 0; q < Q; q++) {
      ref[p * Q + q] += A[p * K + k] * B[k * Q + q];
      abs[p * Q + q] += Math.abs(A[p * K + k] * B[k * Q + q]);
    }
    const put = (a: Float32Array): number => { const at = h.alloc(4 * a.length); h.f32(at, a.length).set(a); return at; };
    const a = put(A), bRows = put(B), bPanels = put(toPanels(B, K, Q));
    const cRows = h.alloc(4 * P * Q), cPanels = put(new Float32Array(panelFloats(P, Q)));
    const panelBytes = 4 * 5 * Math.max(K, 8);
    const scratch = h.alloc(2 * panelBytes);
    const mod = moduleCalls(rt!);
    const results: Float32Array[] = [];
    for (const threads of [1, 2]) {
      rt!.setThreads(threads);
      for (const [bP, cP] of [[false, false], [true, false], [false, true], [true, true]]) {
        const c = cP ? cPanels : cRows;
        runGemm(mod, { at: scratch, bytes: panelBytes }, {
          C: c, ldc: cP ? 16 : Q, cps: cP ? 16 * P : ROW_MAJOR, A: a, ars: K, aks: 1,
          B: bP ? bPanels : bRows, ldb: bP ? 16 : Q, bps: bP ? 16 * K : ROW_MAJOR, P, Q, K, acc: 0,
        });
        results.push(cP ? fromPanels(h.f32(cPanels, panelFloats(P, Q)), P, Q) : h.f32(cRows, P * Q).slice());
      }
    }
    rt!.setThreads(1);
    expectWithinBound('row-major', results[0], ref, abs, K);
    results.forEach((r, j) => expect(Buffer.from(r.buffer).equals(Buffer.from(results[0].buffer)), `variant ${j}`).toBe(true));
    for (const at of [a, bRows, bPanels, cRows, cPanels, scratch]) h.release(at);
  });
});

describe('dot_rows: the narrow layers forward product', () => {
  // rows in pairs and one odd row; outputs in groups of 4 and the 1-3 left; K past a multiple of 4
  it.each([[1, 1, 1], [3, 5, 2], [7, 13, 10], [6, 300, 3], [5, 8, 7], [128, 800, 10], [9, 4, 16]])(
    'N=%i K=%i O=%i: C + A W^T within the float64 bound, the same bits on 1 and 2 threads', (N, K, O) => {
      const { runtime: rt } = wasmRuntime();
      const h = rt!.heap;
      const A = data(N * K, N + 3 * K, 0.3), W = data(O * K, O + K, 0);
      const ref = new Float64Array(N * O).fill(0.5), abs = new Float64Array(N * O).fill(0.5);
      for (let p = 0; p < N; p++) for (let o = 0; o < O; o++) for (let k = 0; k < K; k++) {
        ref[p * O + o] += A[p * K + k] * W[o * K + k];
        abs[p * O + o] += Math.abs(A[p * K + k] * W[o * K + k]);
      }
      const put = (x: Float32Array): number => { const at = h.alloc(4 * x.length); h.f32(at, x.length).set(x); return at; };
      const a = put(A), w = put(W), c = h.alloc(4 * N * O);
      const mod = moduleCalls(rt!);
      const results = [1, 2].map((threads) => {
        rt!.setThreads(threads);
        h.f32(c, N * O).fill(0.5);
        mod.dot_rows(N, 2, { C: c, A: a, W: w, K, O }); // chunks of 2 rows: every split exercised
        return h.f32(c, N * O).slice();
      });
      rt!.setThreads(1);
      expectWithinBound('dot_rows', results[0], ref, abs, K + 1);
      expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
      for (const at of [a, w, c]) h.release(at);
    });
});

describe('csr_slots: the CSR of row pairs in a slot per pair, on every thread', () => {
  // odd N and K (a pair with one row, a last column alone), an all-zero row, an all-non-zero row, -0
  it.each([[7, 9], [6, 784], [1, 5], [11, 2]])('N=%i K=%i: rows and columns give the entries csr_pairs gives for X and X^T', (N, K) => {
    const { runtime: rt } = wasmRuntime();
    const h = rt!.heap;
    const X = data(N * K, N * 31 + K, 0.7);
    if (N > 1) X.fill(0, 0, K); // row 0 all zero
    if (N > 2) X.fill(0.5, 2 * K, 3 * K); // row 2 all non-zero
    X[K * (N - 1)] = -0;
    X[N * K - 1] = 0.25;
    const XT = new Float32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) XT[k * N + n] = X[n * K + k];
    const ldb = 37;
    const mod = moduleCalls(rt!);
    /** The entries of each pair as [v, w, offset] triples, read from R (start, end words per pair). */
    const entries = (R: number, pairs: number): number[][][] => {
      const r = h.i32(R, 2 * pairs);
      return Array.from({ length: pairs }, (_, j) => {
        const out: number[][] = [];
        for (let e = r[2 * j]; e < r[2 * j + 1]; e += 12) {
          out.push([h.f32(e, 2)[0], h.f32(e, 2)[1], h.i32(e + 8, 1)[0]]);
        }
        return out;
      });
    };
    for (const [M, rows, cols] of [[X, N, K], [XT, K, N]] as const) {
      const pairs = Math.ceil(rows / 2);
      const x = h.alloc(4 * M.length), R = h.alloc(8 * pairs), E = h.alloc(24 * pairs * cols);
      h.f32(x, M.length).set(M);
      mod.csr_pairs({ X: x, N: rows, K: cols, ldb, R, E });
      const compact = entries(R, pairs);
      for (const threads of [1, 2]) {
        rt!.setThreads(threads);
        const R2 = h.alloc(8 * pairs), E2 = h.alloc(12 * 2 * pairs * cols);
        const src = h.alloc(4 * X.length);
        h.f32(src, X.length).set(X);
        if (M === X) mod.csr_slots(pairs, 1, { X: src, count: K, step: 4, second: 4 * K, pair: 8 * K, total: N, ldb, R: R2, E: E2 });
        else mod.csr_slots(pairs, 1, { X: src, count: N, step: 4 * K, second: 4, pair: 8, total: K, ldb, R: R2, E: E2 });
        expect(entries(R2, pairs)).toEqual(compact);
        for (const at of [R2, E2, src]) h.release(at);
      }
      rt!.setThreads(1);
      expect(compact.flat().length).toBeGreaterThan(0);
      for (const at of [x, R, E]) h.release(at);
    }
  });
});

describe('the plain SIMD128 fallback module (mul + add, no relaxed SIMD)', () => {
  it('computes the dense, panelled, narrow and sparse products and the sigmoid within the float64 bounds', () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const module = new WebAssembly.Module(readFileSync(wasmFile('simd')));
    const e = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
    const f32 = new Float32Array(memory.buffer);
    let top = 1 << 16; // a bump allocator over this module's own memory
    const put = (a: Float32Array | number): number => {
      const at = top;
      top += 4 * (typeof a === 'number' ? a : a.length) + 64;
      if (typeof a !== 'number') f32.set(a, at / 4);
      return at;
    };
    const [P, K, Q] = [9, 37, 21]; // no dimension a multiple of a tile
    const A = data(P * K, 3, 0.6), B = data(K * Q, 4, 0.1);
    const ref = new Float64Array(P * Q), abs = new Float64Array(P * Q);
    for (let p = 0; p < P; p++) for (let k = 0; k < K; k++) for (let q = 0; q < Q; q++) {
      ref[p * Q + q] += A[p * K + k] * B[k * Q + q];
      abs[p * Q + q] += Math.abs(A[p * K + k] * B[k * Q + q]);
    }
    const a = put(A), b = put(B), S = put(5 * K), c = put(P * Q);
    const got = (): Float32Array => f32.slice(c / 4, c / 4 + P * Q);
    // gemm, row-major
    e.gemm(c, Q, ROW_MAJOR, a, K, 1, b, Q, ROW_MAJOR, P, Q, K, 0, S);
    expectWithinBound('gemm', got(), ref, abs, K);
    // spmm over the CSR of A's row pairs (slots), B row-major
    const pairs = Math.ceil(P / 2), R = put(2 * pairs), E = put(3 * pairs * K);
    e.csr_slots(0, pairs, 0, a, K, 4, 4 * K, 8 * K, P, Q, R, E);
    e.spmm(0, Math.ceil(Q / 16), 0, c, Q, ROW_MAJOR, R, P, b, ROW_MAJOR, Q, 0);
    expectWithinBound('spmm', got(), ref, abs, K);
    // dot_rows: C += A W^T with W = B^T [Q, K]
    const W = new Float32Array(Q * K);
    for (let k = 0; k < K; k++) for (let q = 0; q < Q; q++) W[q * K + k] = B[k * Q + q];
    const w = put(W);
    f32.fill(0, c / 4, c / 4 + P * Q);
    e.dot_rows(0, P, 0, c, a, w, K, Q);
    expectWithinBound('dot_rows', got(), ref, abs, K + 1);
    // sigmoid
    const z = put(data(50, 6, 0).map((x) => 30 * x)), s = put(50);
    e.sigmoid(0, 50, 0, s, z);
    for (let i = 0; i < 50; i++) {
      const r = 1 / (1 + Math.exp(-f32[z / 4 + i]));
      expect(Math.abs(f32[s / 4 + i] - r) / r).toBeLessThan(4 * 2 ** -23);
    }
    // softplus and its derivative (mul + add in place of the fused multiply-adds: the same 4-ulp standard)
    const dA = put(data(50, 7, 0));
    e.softplus(0, 50, 0, s, z);
    e.softplus_backward(0, 50, 0, c, dA, z);
    for (let i = 0; i < 50; i++) {
      const zi = f32[z / 4 + i];
      const r = Math.max(zi, 0) + Math.log1p(Math.exp(-Math.abs(zi)));
      expect(Math.abs(f32[s / 4 + i] - r) / r).toBeLessThan(4 * 2 ** -23);
      const b = f32[dA / 4 + i] / (1 + Math.exp(-zi));
      expect(Math.abs(f32[c / 4 + i] - b)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(b));
    }
  });
});
