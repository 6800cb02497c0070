// Dense-layer kernels: forward/backward pairs on flat row-major arrays.
//
// N = batch rows, I = inputs, O = outputs; all row-major.
// Z[N,O]  = X[N,I] · W[O,I]^T + b[O]                      (forward)
// dX[N,I] = dZ[N,O] · W[O,I]                               (backward)
// dW[O,I] = dZ[N,O]^T · X[N,I]
// db[O]   = Σ_n dZ[n,O]
//
// W is stored [O,I] as in PyTorch's nn.Linear, so saved weights need no
// transpose. Backward *overwrites* dX, dW and db (the trainer never
// accumulates across calls); dX may be null for the first layer, whose
// input gradient nobody needs.
//
// Two implementations with the same contract:
// - naive: the textbook triple loop. Kept as the reference and the fallback.
// - blocked: the same sums on 4x4 register tiles. Each inner-loop step loads
//   4 + 4 values and does 16 multiply-adds, where the naive loop loads 2 per
//   multiply-add; that is the whole speed-up (about 5x in V8).
//
// Both accumulate in JS numbers (float64) and add the terms of every sum in
// the same order (ascending i, o or n, starting from the bias or zero), so
// blocked and naive agree bit for bit, and a test says so.

import { availableParallelism } from 'node:os';
import { biasGradient } from './bias.js';
import { wasmKernels } from './wasm/gemm.js';

export type Vec = Float32Array | Float64Array;

export interface MatmulKernels {
  forward(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void;
  backward(dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number): void;
}

// ---------------------------------------------------------------------------
// naive

// Z[N,O] = X[N,I] · W[O,I]^T + b[O]
export function matmulForwardNaive(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += X[n * I + i] * W[o * I + i];
      Z[n * O + o] = s;
    }
  }
}

// dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
export function matmulBackwardNaive(
  dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number,
): void {
  if (dX) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let o = 0; o < O; o++) s += dZ[n * O + o] * W[o * I + i];
        dX[n * I + i] = s;
      }
    }
  }
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dZ[n * O + o] * X[n * I + i];
      dW[o * I + i] = s;
    }
    let s = 0;
    for (let n = 0; n < N; n++) s += dZ[n * O + o];
    db[o] = s;
  }
}

// ---------------------------------------------------------------------------
// blocked
//
// Every product C[P,Q] = Σ_k A(p,k) B(q,k) below is computed on 4x4 tiles of
// C: sixteen accumulators live in registers while k runs, and the ragged
// edges (P or Q not a multiple of 4) fall back to one accumulator per entry.
// The three products differ only in where A and B keep their k index:
//   forward  Z[n,o]  = b[o] + Σ_i X[n,i] W[o,i]   (k = i, contiguous in both)
//   dX       dX[n,i] =        Σ_o dZ[n,o] W[o,i]  (k = o, strided by O and I)
//   dW       dW[o,i] =        Σ_n dZ[n,o] X[n,i]  (k = n, strided by O and I)

// Z[N,O] = X[N,I] · W[O,I]^T + b[O]
export function matmulForwardBlocked(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void {
  const N4 = N - (N % 4);
  const O4 = O - (O % 4);
  for (let n = 0; n < N4; n += 4) {
    const x0 = n * I, x1 = x0 + I, x2 = x1 + I, x3 = x2 + I;
    for (let o = 0; o < O4; o += 4) {
      const w0 = o * I, w1 = w0 + I, w2 = w1 + I, w3 = w2 + I;
      const b0 = b[o], b1 = b[o + 1], b2 = b[o + 2], b3 = b[o + 3];
      let s00 = b0, s01 = b1, s02 = b2, s03 = b3;
      let s10 = b0, s11 = b1, s12 = b2, s13 = b3;
      let s20 = b0, s21 = b1, s22 = b2, s23 = b3;
      let s30 = b0, s31 = b1, s32 = b2, s33 = b3;
      for (let i = 0; i < I; i++) {
        const a0 = X[x0 + i], a1 = X[x1 + i], a2 = X[x2 + i], a3 = X[x3 + i];
        const c0 = W[w0 + i], c1 = W[w1 + i], c2 = W[w2 + i], c3 = W[w3 + i];
        s00 += a0 * c0; s01 += a0 * c1; s02 += a0 * c2; s03 += a0 * c3;
        s10 += a1 * c0; s11 += a1 * c1; s12 += a1 * c2; s13 += a1 * c3;
        s20 += a2 * c0; s21 += a2 * c1; s22 += a2 * c2; s23 += a2 * c3;
        s30 += a3 * c0; s31 += a3 * c1; s32 += a3 * c2; s33 += a3 * c3;
      }
      const z0 = n * O + o, z1 = z0 + O, z2 = z1 + O, z3 = z2 + O;
      Z[z0] = s00; Z[z0 + 1] = s01; Z[z0 + 2] = s02; Z[z0 + 3] = s03;
      Z[z1] = s10; Z[z1 + 1] = s11; Z[z1 + 2] = s12; Z[z1 + 3] = s13;
      Z[z2] = s20; Z[z2 + 1] = s21; Z[z2 + 2] = s22; Z[z2 + 3] = s23;
      Z[z3] = s30; Z[z3 + 1] = s31; Z[z3 + 2] = s32; Z[z3 + 3] = s33;
    }
  }
  // Ragged edges: rows n >= N4 (all columns), and columns o >= O4 (rows < N4).
  for (let n = 0; n < N; n++) {
    for (let o = n < N4 ? O4 : 0; o < O; o++) {
      let s = b[o];
      for (let i = 0; i < I; i++) s += X[n * I + i] * W[o * I + i];
      Z[n * O + o] = s;
    }
  }
}

// dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
export function matmulBackwardBlocked(
  dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number,
): void {
  if (dX) inputGradBlocked(dX, dZ, W, N, I, O);
  weightGradBlocked(dW, dZ, X, N, I, O);
  biasGradient(db, dZ, N, O);
}

// dX[n,i] = Σ_o dZ[n,o] W[o,i]
function inputGradBlocked(dX: Vec, dZ: Vec, W: Vec, N: number, I: number, O: number): void {
  const N4 = N - (N % 4);
  const I4 = I - (I % 4);
  for (let n = 0; n < N4; n += 4) {
    const g0 = n * O, g1 = g0 + O, g2 = g1 + O, g3 = g2 + O;
    for (let i = 0; i < I4; i += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let o = 0, w = i; o < O; o++, w += I) {
        const a0 = dZ[g0 + o], a1 = dZ[g1 + o], a2 = dZ[g2 + o], a3 = dZ[g3 + o];
        const c0 = W[w], c1 = W[w + 1], c2 = W[w + 2], c3 = W[w + 3];
        s00 += a0 * c0; s01 += a0 * c1; s02 += a0 * c2; s03 += a0 * c3;
        s10 += a1 * c0; s11 += a1 * c1; s12 += a1 * c2; s13 += a1 * c3;
        s20 += a2 * c0; s21 += a2 * c1; s22 += a2 * c2; s23 += a2 * c3;
        s30 += a3 * c0; s31 += a3 * c1; s32 += a3 * c2; s33 += a3 * c3;
      }
      const d0 = n * I + i, d1 = d0 + I, d2 = d1 + I, d3 = d2 + I;
      dX[d0] = s00; dX[d0 + 1] = s01; dX[d0 + 2] = s02; dX[d0 + 3] = s03;
      dX[d1] = s10; dX[d1 + 1] = s11; dX[d1 + 2] = s12; dX[d1 + 3] = s13;
      dX[d2] = s20; dX[d2 + 1] = s21; dX[d2 + 2] = s22; dX[d2 + 3] = s23;
      dX[d3] = s30; dX[d3 + 1] = s31; dX[d3 + 2] = s32; dX[d3 + 3] = s33;
    }
  }
  for (let n = 0; n < N; n++) {
    for (let i = n < N4 ? I4 : 0; i < I; i++) {
      let s = 0;
      for (let o = 0; o < O; o++) s += dZ[n * O + o] * W[o * I + i];
      dX[n * I + i] = s;
    }
  }
}

// dW[o,i] = Σ_n dZ[n,o] X[n,i]
function weightGradBlocked(dW: Vec, dZ: Vec, X: Vec, N: number, I: number, O: number): void {
  const O4 = O - (O % 4);
  const I4 = I - (I % 4);
  for (let o = 0; o < O4; o += 4) {
    for (let i = 0; i < I4; i += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let n = 0, g = o, x = i; n < N; n++, g += O, x += I) {
        const a0 = dZ[g], a1 = dZ[g + 1], a2 = dZ[g + 2], a3 = dZ[g + 3];
        const c0 = X[x], c1 = X[x + 1], c2 = X[x + 2], c3 = X[x + 3];
        s00 += a0 * c0; s01 += a0 * c1; s02 += a0 * c2; s03 += a0 * c3;
        s10 += a1 * c0; s11 += a1 * c1; s12 += a1 * c2; s13 += a1 * c3;
        s20 += a2 * c0; s21 += a2 * c1; s22 += a2 * c2; s23 += a2 * c3;
        s30 += a3 * c0; s31 += a3 * c1; s32 += a3 * c2; s33 += a3 * c3;
      }
      const d0 = o * I + i, d1 = d0 + I, d2 = d1 + I, d3 = d2 + I;
      dW[d0] = s00; dW[d0 + 1] = s01; dW[d0 + 2] = s02; dW[d0 + 3] = s03;
      dW[d1] = s10; dW[d1 + 1] = s11; dW[d1 + 2] = s12; dW[d1 + 3] = s13;
      dW[d2] = s20; dW[d2 + 1] = s21; dW[d2 + 2] = s22; dW[d2 + 3] = s23;
      dW[d3] = s30; dW[d3 + 1] = s31; dW[d3 + 2] = s32; dW[d3 + 3] = s33;
    }
  }
  for (let o = 0; o < O; o++) {
    for (let i = o < O4 ? I4 : 0; i < I; i++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dZ[n * O + o] * X[n * I + i];
      dW[o * I + i] = s;
    }
  }
}

export const KERNELS = {
  naive: { forward: matmulForwardNaive, backward: matmulBackwardNaive },
  blocked: { forward: matmulForwardBlocked, backward: matmulBackwardBlocked },
} as const satisfies Record<string, MatmulKernels>;

/** What `training.kernel` may name: the two TypeScript kernels, or WebAssembly SIMD (src/kernels/wasm/). */
export type KernelName = keyof typeof KERNELS | 'wasm';

export interface SelectedKernels {
  kernels: MatmulKernels;
  /** What runs: naive, blocked, wasm-fma (relaxed SIMD) or wasm-simd (SIMD128). */
  name: string;
  /** Set when 'wasm' was asked for and could not load: why, and that blocked runs instead. */
  fallback: string | null;
}

/**
 * Threads for the WebAssembly kernels from now on (they are one pool per
 * process); 'auto' = the machine's cores. No effect on the TypeScript kernels.
 */
export function setKernelThreads(threads: number | 'auto'): number {
  const n = threads === 'auto' ? availableParallelism() : threads;
  wasmKernels().kernels?.setThreads(n);
  return n;
}

/**
 * The kernels for a name. 'wasm' runs float32 operands in WebAssembly and
 * hands float64 ones (mlp-grad, gradient tests) to the blocked kernel; if the
 * module cannot load, blocked runs and `fallback` says why.
 */
export function selectKernels(name: KernelName): SelectedKernels {
  if (name !== 'wasm') return { kernels: KERNELS[name], name, fallback: null };
  const { kernels: wasm, reason } = wasmKernels();
  if (!wasm) return { kernels: KERNELS.blocked, name: 'blocked', fallback: `WebAssembly kernels unavailable (${reason}); using blocked` };
  const blocked = KERNELS.blocked;
  return {
    name: `wasm-${wasm.variant}`,
    fallback: null,
    kernels: {
      forward(Z, X, W, b, N, I, O) {
        if (Z instanceof Float32Array && X instanceof Float32Array && W instanceof Float32Array) wasm.forward(Z, X, W, b, N, I, O);
        else blocked.forward(Z, X, W, b, N, I, O);
      },
      backward(dX, dW, db, dZ, X, W, N, I, O) {
        if (dW instanceof Float32Array && dZ instanceof Float32Array && X instanceof Float32Array) wasm.backward(dX, dW, db, dZ, X, W, N, I, O);
        else blocked.backward(dX, dW, db, dZ, X, W, N, I, O);
      },
    },
  };
}
