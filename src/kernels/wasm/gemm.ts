// The WebAssembly SIMD kernels (src/kernels/wasm/gemm-wat.ts) behind the
// matmul contract of src/kernels/matmul.ts.
//
// Loading: relaxed SIMD (fused multiply-add) needs a V8 flag in Node 20, set
// here before compiling; if that variant does not compile, plain SIMD128; if
// neither does (or dist/wasm/ is missing), wasmKernels() returns null with the
// reason and the caller falls back to the TypeScript kernels.
//
// Data: this first version copies its operands into the module's memory and
// the result back (about 1 MB a call for the 784x300 layer, ~5% of the call);
// the arrays are plain Float32Arrays owned by the model. Float64 operands (the
// float64 model of mlp-grad and the gradient tests) go to the blocked kernel.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { wasmFile, type WasmVariant } from './files.js';
import { GemmPool, type Gemm } from './pool.js';

type Vec = Float32Array | Float64Array;

interface Exports {
  gemm: Gemm;
  transpose(dst: number, src: number, rows: number, cols: number): void;
}

export interface WasmKernels {
  variant: WasmVariant;
  /** Threads the products run on (the caller's plus workers); 1 until setThreads. */
  readonly threads: number;
  /** Use `n` threads from now on (starts or replaces the worker pool). */
  setThreads(n: number): void;
  forward(Z: Vec, X: Vec, W: Vec, b: Vec, N: number, I: number, O: number): void;
  backward(dX: Vec | null, dW: Vec, db: Vec, dZ: Vec, X: Vec, W: Vec, N: number, I: number, O: number): void;
}

const PAGE = 65536;

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
  const failures: string[] = [];
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  for (const variant of ['fma', 'simd'] as const) {
    try {
      const bytes = readFileSync(wasmFile(variant));
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
      const module = new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      loaded = { kernels: makeKernels(variant, module, memory, instance.exports as unknown as Exports), reason: variant };
      return loaded;
    } catch (err) {
      failures.push(`${variant}: ${(err as Error).message}`);
    }
  }
  loaded = { kernels: null, reason: failures.join('; ') };
  return loaded;
}

function makeKernels(variant: WasmVariant, module: WebAssembly.Module, memory: WebAssembly.Memory, wasm: Exports): WasmKernels {
  let heap = new Float32Array(memory.buffer);
  let pool = new GemmPool(module, memory, 1);

  /** Make room for `floats` floats of scratch; returns the heap view (renewed if the memory grew). */
  const reserve = (floats: number): Float32Array => {
    const need = floats * 4 - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / PAGE));
    if (heap.length * 4 !== memory.buffer.byteLength) heap = new Float32Array(memory.buffer);
    return heap;
  };

  /** C (+)= A B on every thread; panel scratch for each thread after `panel` (floats), `panelFloats` each. */
  const gemm = (
    panel: number, panelFloats: number, C: number, ldc: number, A: number, ars: number, aks: number,
    B: number, ldb: number, P: number, Q: number, K: number, acc: number,
  ): void => pool.run(wasm.gemm, C, ldc, A, ars, aks, B, ldb, P, Q, K, acc, panel * 4, panelFloats * 4);

  return {
    variant,
    get threads() {
      return pool.threads;
    },
    setThreads(n) {
      if (n === pool.threads) return;
      pool.close();
      pool = new GemmPool(module, memory, n);
    },

    // Z[N,O] = X[N,I] · W[O,I]^T + b[O]
    forward(Z, X, W, b, N, I, O) {
      // scratch (in floats): X | W | Wt = W^T [I, O] | Z
      const x = 0, w = x + N * I, wt = w + O * I, z = wt + I * O, panel = z + N * O;
      const pf = 5 * I;
      const h = reserve(panel + pool.threads * pf);
      h.set(X.subarray(0, N * I), x);
      h.set(W.subarray(0, O * I), w);
      wasm.transpose(wt * 4, w * 4, O, I);
      for (let n = 0; n < N; n++) h.set(b.subarray(0, O), z + n * O);
      gemm(panel, pf, z * 4, O, x * 4, I, 1, wt * 4, O, N, O, I, 1);
      Z.set(h.subarray(z, z + N * O));
    },

    // dX[N,I] = dZ · W ;  dW[O,I] = dZ^T · X ;  db[O] = Σ_n dZ
    backward(dX, dW, db, dZ, X, W, N, I, O) {
      // scratch: dZ | X | W | dW | dX
      // scratch: dZ | X | W | dW | dW^T | dX | panel
      const g = 0, x = g + N * O, w = x + N * I, dw = w + O * I, dwt = dw + O * I, dx = dwt + O * I;
      const panel = dx + (dX ? N * I : 0);
      const pf = 5 * Math.max(N, O, I);
      const h = reserve(panel + pool.threads * pf);
      h.set(dZ.subarray(0, N * O), g);
      h.set(X.subarray(0, N * I), x);
      if (mostlyZero(X, N * I)) {
        // dW^T[I,O] = X^T dZ: the packed panels hold X[n, i..i+3] and skip the n where all four are 0
        // (most of MNIST's pixel blocks); then transpose. The same sums, in the same order.
        gemm(panel, pf, dwt * 4, O, x * 4, 1, I, g * 4, O, I, O, N, 0);
        wasm.transpose(dw * 4, dwt * 4, I, O);
      } else {
        gemm(panel, pf, dw * 4, I, g * 4, 1, O, x * 4, I, O, I, N, 0);
      }
      dW.set(h.subarray(dw, dw + O * I));
      if (dX) {
        h.set(W.subarray(0, O * I), w);
        gemm(panel, pf, dx * 4, I, g * 4, O, 1, w * 4, I, N, I, O, 0);
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
