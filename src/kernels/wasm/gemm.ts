// The WebAssembly SIMD product (src/kernels/wasm/gemm-wat.ts) behind the
// matmul contract of src/kernels/matmul.ts, for arrays that live outside the
// module's memory: operands are copied into a scratch block and the result
// back (about 1 MB a call for the 784x300 layer). Evaluation and the generic
// Pass use this; training keeps its buffers in the memory (wasm-pass.ts) and
// copies nothing. Float64 operands (the float64 model of mlp-grad and the
// gradient tests) go to the blocked kernel.
import { ROW_MAJOR } from './gemm-wat.js';
import { runGemm } from './pool.js';
import { wasmRuntime, type WasmRuntime } from './runtime.js';
import type { WasmVariant } from './files.js';

type Vec = Float32Array | Float64Array;

export interface WasmKernels {
  variant: WasmVariant;
  /** Threads the products run on (the caller's plus workers); 1 until setThreads. */
  readonly threads: number;
  /** Use `n` threads from now on (starts or replaces the worker pool). */
  setThreads(n: number): void;
  forward(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void;
  backward(dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number): void;
}

/** At least half of a sample of 1 in 16 entries is zero (MNIST pixels: 81%; sigmoid activations: never). */
function mostlyZero(X: Vec, len: number): boolean {
  let zeros = 0;
  let seen = 0;
  for (let i = 0; i < len; i += 16, seen++) if (X[i] === 0) zeros++;
  return 2 * zeros >= seen;
}

let loaded: { kernels: WasmKernels | null; reason: string } | null = null;

/** The WebAssembly kernels, or null and why not. Loaded once. */
export function wasmKernels(): { kernels: WasmKernels | null; reason: string } {
  if (loaded) return loaded;
  const { runtime, reason } = wasmRuntime();
  loaded = { kernels: runtime ? makeKernels(runtime) : null, reason };
  return loaded;
}

function makeKernels(rt: WasmRuntime): WasmKernels {
  const { heap, exports: wasm } = rt;
  // One scratch block, replaced by a larger one when a call needs more.
  let scratch = 0;
  let scratchBytes = 0;
  let heapF32: Float32Array = new Float32Array(0);
  /** Byte address of the float at index `floats` of the scratch block. */
  const ptr = (floats: number): number => scratch + floats * 4;

  /** Make room for `floats` floats of scratch; returns a view of it (floats from its start). */
  const reserve = (floats: number): Float32Array => {
    if (floats * 4 > scratchBytes) {
      if (scratch) heap.release(scratch);
      scratchBytes = Math.max(floats * 4, 2 * scratchBytes);
      scratch = heap.alloc(scratchBytes);
      heapF32 = heap.f32(scratch, scratchBytes / 4);
    }
    return heapF32;
  };

  /** C (+)= A B on every thread, all row-major; panel scratch for each thread after `panel` (floats from scratch), `panelFloats` each. */
  const gemm = (
    panel: number, panelFloats: number, C: number, ldc: number, A: number, ars: number, aks: number,
    B: number, ldb: number, P: number, Q: number, K: number, acc: number,
  ): void => {
    runGemm(rt.pool(), ptr(panel), panelFloats * 4, ptr(C), ldc, ROW_MAJOR, ptr(A), ars, aks, ptr(B), ldb, ROW_MAJOR, P, Q, K, acc);
  };

  return {
    variant: rt.variant,
    get threads() {
      return rt.threads;
    },
    setThreads(n) {
      rt.setThreads(n);
    },

    // Z[N,O] = X[N,I] · W[O,I]^T + b[O]
    forward(Z, X, W, b, N, I, O) {
      // scratch (in floats): X | W | Wt = W^T [I, O] | Z
      const x = 0, w = x + N * I, wt = w + O * I, z = wt + I * O, panel = z + N * O;
      const pf = 5 * I;
      const h = reserve(panel + rt.threads * pf);
      h.set(X.subarray(0, N * I), x);
      h.set(W.subarray(0, O * I), w);
      wasm.transpose(ptr(wt), ptr(w), O, I);
      for (let n = 0; n < N; n++) h.set(b.subarray(0, O), z + n * O);
      gemm(panel, pf, z, O, x, I, 1, wt, O, N, O, I, 1);
      Z.set(h.subarray(z, z + N * O));
    },

    // dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
    backward(dX, dW, db, dZ, X, W, N, I, O) {
      // scratch: dZ | X | W | dW | dW^T | dX | panel
      const g = 0, x = g + N * O, w = x + N * I, dw = w + O * I, dwt = dw + O * I, dx = dwt + O * I;
      const panel = dx + (dX ? N * I : 0);
      const pf = 5 * Math.max(N, O, I);
      const h = reserve(panel + rt.threads * pf);
      h.set(dZ.subarray(0, N * O), g);
      h.set(X.subarray(0, N * I), x);
      if (mostlyZero(X, N * I)) {
        // dW^T[I,O] = X^T dZ: the packed panels hold X[n, i..i+3] and skip the n where all four are 0
        // (most of MNIST's pixel blocks); then transpose. The same sums, in the same order.
        gemm(panel, pf, dwt, O, x, 1, I, g, O, I, O, N, 0);
        wasm.transpose(ptr(dw), ptr(dwt), I, O);
      } else {
        gemm(panel, pf, dw, I, g, 1, O, x, I, O, I, N, 0);
      }
      dW.set(h.subarray(dw, dw + O * I));
      if (dX) {
        h.set(W.subarray(0, O * I), w);
        gemm(panel, pf, dx, I, g, O, 1, w, I, N, I, O, 0);
        dX.set(h.subarray(dx, dx + N * I));
      }
      for (let o = 0; o < O; o++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += dZ[n * O + o];
        db[o] = s;
      }
    },
  };
}
