// What every bench file shares: seeded random operands, the median-of-batches
// timer, the kernel variants to time, and the product rows' shape.
import { availableParallelism } from 'node:os';
import type { KernelName } from '../src/kernels/matmul.js';
import type { Rng } from '../src/rng.js';

/** One timed product: `kernel` is the column (name and threads), `case` the row. */
export interface KernelRow { kernel: string; case: string; rel_error: number; ms: number; gflops: number }

export function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.uniform() - 1;
  return a;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Median ms per call of `fn` over `reps` timed batches of calls (each batch ~100 ms, at least one call). */
export function time(fn: () => void, reps = 7): number {
  fn(); // warm-up (and tier-up of the wasm code)
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  const calls = Math.max(1, Math.round(100 / Math.max(once, 1e-3)));
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let c = 0; c < calls; c++) fn();
    ms.push((performance.now() - start) / calls);
  }
  return median(ms);
}

/** Each kernel, and the wasm one at every thread count up to the machine's cores. */
export function variants(names: KernelName[]): Array<{ name: KernelName; threads: number }> {
  const out: Array<{ name: KernelName; threads: number }> = [];
  for (const name of names) {
    if (name !== 'wasm') out.push({ name, threads: 1 });
    else for (let t = 1; t <= availableParallelism(); t++) out.push({ name, threads: t });
  }
  return out;
}
