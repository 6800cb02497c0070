// The fast pass's L2 term (l2-wat.ts), in the module on its memory: the sum
// of squares of the working weights and dW_l += lambda W_l, on every thread.
import type { Args, ModuleCalls } from '../kernels/wasm/calls.js';
import { grainOf } from '../kernels/wasm/pool.js';

/** A layer's L2 jobs: its block sums, and dW_l += lambda W_l (lambda set per call). */
interface L2Job {
  blocks: number;
  sums: Args<'l2_sums'>;
  grad: { G: Float32Array; W: Float32Array; lambda: number };
}

export class ModuleL2 {
  private readonly parts: Float64Array; // the block sums, layer after layer
  private readonly jobs: L2Job[];

  /** `blocks[l]`: W_l's blocks (wasm-buffers.ts l2Blocks); `f64` allocates in the module's memory. */
  constructor(
    private readonly k: ModuleCalls,
    W: readonly Float32Array[],
    dW: readonly Float32Array[],
    blocks: readonly number[],
    f64: (count: number) => Float64Array,
  ) {
    this.parts = f64(blocks.reduce((a, b) => a + b, 0));
    let at = 0;
    this.jobs = W.map((w, l) => {
      const out = this.parts.subarray(at, at + blocks[l]);
      at += blocks[l];
      return { blocks: blocks[l], sums: { out, W: w, n: w.length }, grad: { G: dW[l], W: w, lambda: 0 } };
    });
  }

  /**
   * Σ_l Σ_k W_l[k]^2: the sums of blocks of L2_BLOCK floats of each W_l (in
   * the working layout, its zero padding included) in the module on every
   * thread, added here in order: the same bits on any number of threads.
   */
  sum(): number {
    const k = this.k;
    for (const job of this.jobs) k.l2_sums(job.blocks, grainOf(job.blocks, k.threads, 1, 4), job.sums);
    const parts = this.parts;
    let s = 0;
    for (let i = 0; i < parts.length; i++) s += parts[i];
    return s;
  }

  /** dW_l += lambda W_l in the module, on every thread, with addScaled's bits (dW_l and W_l share the working layout). */
  addGrad(lambda: number): void {
    const k = this.k;
    for (const job of this.jobs) {
      job.grad.lambda = lambda;
      k.l2_grad(job.sums.n, grainOf(job.sums.n, k.threads, 1024), job.grad);
    }
  }
}
