// The WebAssembly SIMD product (src/kernels/wasm/gemm-wat.ts) behind the
// matmul contract of src/kernels/matmul.ts, for arrays that live outside the
// module's memory: operands are copied into a scratch block and the result
// back (about 1 MB a call for the 784x300 layer). Evaluation and the generic
// Pass use this; training keeps its buffers in the memory (wasm-pass.ts) and
// copies nothing. Float64 operands (the float64 model of mlp-grad and the
// gradient tests) go to the blocked kernel.
import { biasGradient } from '../bias.js';
import { moduleCalls, type ModuleCalls } from './calls.js';
import { runGemm, type GemmOperands } from './gemm-job.js';
import { ROW_MAJOR } from './gemm-wat.js';
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
  const c = new CopyingKernels(rt);
  return {
    variant: rt.variant,
    get threads() {
      return rt.threads;
    },
    setThreads: (n) => rt.setThreads(n),
    forward: (Z, X, W, b, N, I, O) => c.forward(Z, X, W, b, N, I, O),
    backward: (dX, dW, db, dZ, X, W, N, I, O) => c.backward(dX, dW, db, dZ, X, W, N, I, O),
  };
}

/** The matmul contract on copies of the operands in one scratch block of the module's memory. */
class CopyingKernels {
  private readonly rt: WasmRuntime;
  private readonly k: ModuleCalls;
  // One scratch block, replaced by a larger one when a call needs more.
  private scratch = 0;
  private scratchBytes = 0;
  private heapF32: Float32Array = new Float32Array(0);

  constructor(rt: WasmRuntime) {
    this.rt = rt;
    this.k = moduleCalls(rt);
  }

  // Z[N,O] = X[N,I] · W[O,I]^T + b[O]
  forward(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void {
    // scratch (in floats): X | W | Wt = W^T [I, O] | Z
    const x = 0, w = x + N * I, wt = w + O * I, z = wt + I * O, panel = z + N * O;
    const pf = 5 * I;
    const h = this.reserve(panel + this.rt.threads * pf);
    const ptr = (floats: number): number => this.ptr(floats);
    h.set(X.subarray(0, N * I), x);
    h.set(W.subarray(0, O * I), w);
    this.k.transpose({ dst: ptr(wt), src: ptr(w), rows: O, cols: I });
    for (let n = 0; n < N; n++) h.set(b.subarray(0, O), z + n * O);
    this.gemm(panel, pf, { C: z, ldc: O, A: x, ars: I, aks: 1, B: wt, ldb: O, P: N, Q: O, K: I, acc: 1 });
    Z.set(h.subarray(z, z + N * O));
  }

  // dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
  backward(dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number): void {
    // scratch: dZ | X | W | dW | dW^T | dX | panel
    const g = 0, x = g + N * O, w = x + N * I, dw = w + O * I, dwt = dw + O * I, dx = dwt + O * I;
    const panel = dx + (dX ? N * I : 0);
    const pf = 5 * Math.max(N, O, I);
    const h = this.reserve(panel + this.rt.threads * pf);
    h.set(dZ.subarray(0, N * O), g);
    h.set(X.subarray(0, N * I), x);
    if (mostlyZero(X, N * I)) {
      // dW^T[I,O] = X^T dZ: the packed panels hold X[n, i..i+3] and skip the n where all four are 0
      // (most of MNIST's pixel blocks); then transpose. The same sums, in the same order.
      this.gemm(panel, pf, { C: dwt, ldc: O, A: x, ars: 1, aks: I, B: g, ldb: O, P: I, Q: O, K: N, acc: 0 });
      this.k.transpose({ dst: this.ptr(dw), src: this.ptr(dwt), rows: I, cols: O });
    } else {
      this.gemm(panel, pf, { C: dw, ldc: I, A: g, ars: 1, aks: O, B: x, ldb: I, P: O, Q: I, K: N, acc: 0 });
    }
    dW.set(h.subarray(dw, dw + O * I));
    if (dX) {
      h.set(W.subarray(0, O * I), w);
      this.gemm(panel, pf, { C: dx, ldc: I, A: g, ars: O, aks: 1, B: w, ldb: I, P: N, Q: I, K: O, acc: 0 });
      dX.set(h.subarray(dx, dx + N * I));
    }
    biasGradient(db, dZ, N, O);
  }

  /** Byte address of the float at index `floats` of the scratch block. */
  private ptr(floats: number): number {
    return this.scratch + floats * 4;
  }

  /** Make room for `floats` floats of scratch; returns a view of it (floats from its start). */
  private reserve(floats: number): Float32Array {
    if (floats * 4 > this.scratchBytes) {
      if (this.scratch) this.rt.heap.release(this.scratch);
      this.scratchBytes = Math.max(floats * 4, 2 * this.scratchBytes);
      this.scratch = this.rt.heap.alloc(this.scratchBytes);
      this.heapF32 = this.rt.heap.f32(this.scratch, this.scratchBytes / 4);
    }
    return this.heapF32;
  }

  /** C (+)= A B on every thread, all row-major, operands at float offsets of the scratch; panel scratch per thread after `panel`. */
  private gemm(panel: number, panelFloats: number, o: Omit<GemmOperands, 'cps' | 'bps'> & { C: number; A: number; B: number }): void {
    const ptr = (floats: number): number => this.ptr(floats);
    runGemm(this.k, { at: ptr(panel), bytes: panelFloats * 4 }, {
      ...o, C: ptr(o.C), cps: ROW_MAJOR, A: ptr(o.A), B: ptr(o.B), bps: ROW_MAJOR,
    });
  }
}
