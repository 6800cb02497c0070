// The L2 term on the fast pass (WasmPass.l2Sum and addL2Grad, run in the
// module: src/kernels/wasm/l2-wat.ts) against the TypeScript reference
// (sumOfSquares and addScaled of src/model/pass.ts) on the pass's own W and dW
// in the working layout: the gradient dW += lambda W bit for bit; the sum of
// squares bit for bit against its block order written out below, and within
// float64 rounding of the sequential sum; both the same on 1 and 2 threads.
import { describe, expect, it } from 'vitest';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { L2_BLOCK } from '../../src/kernels/wasm/l2-wat.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { Mlp } from '../../src/model/mlp.js';
import { newOptimizerState, type SgdSettings } from '../../src/model/optimizer.js';
import { addScaled, sumOfSquares } from '../../src/model/pass.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { Rng } from '../../src/rng.js';

const rt = wasmRuntime().runtime!;
const PLAIN: SgdSettings = { name: 'sgd', momentum: 0 };
// 300-20-17-10: W_0^T in panels with zero padding (20 outputs in two 16-column
// panels), 3 blocks, the last partial; W_1^T row-major (340 floats: 4 after the
// last group of 8); W_2 narrow (170: 2 after). 784-800-10: 154 blocks, split
// over the threads.
const NETS = [
  [300, 20, 17, 10],
  [784, 800, 10],
];
const LAMBDAS = [0.02, 0.2, 1 / 3, 1e-7];

const bytes = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A fast pass on `threads` threads with random weights (a tenth exact zeros, some tiny) and a random gradient in its working layout. */
function randomPass(layers: number[], threads: number, seed: number): WasmPass {
  rt.setThreads(threads);
  const model = new Mlp({ layers, hidden: 'relu', output: 'softmax' });
  const rng = new Rng(seed, 3);
  const value = (): number => {
    const r = rng.uniform();
    return r < 0.1 ? 0 : r < 0.12 ? 1e-30 * (rng.uniform() - 0.5) : rng.uniform() - 0.5;
  };
  const wp = new WasmPass(model, rt, { capacity: 4, optimizer: PLAIN });
  wp.load(new Float32Array(model.params.length).map(value), newOptimizerState(PLAIN, model.params.length));
  wp.layout.toWorking(wp.grads, new Float32Array(model.params.length).map(() => 1000 * value()));
  return wp;
}

/** The sums of squares of w's blocks in the module's order (l2-wat.ts): 8 running sums, then the floats after the last group of 8. */
function blockSums(w: Float32Array): number[] {
  const sums: number[] = [];
  for (let at = 0; at < w.length; at += L2_BLOCK) {
    const end = Math.min(at + L2_BLOCK, w.length);
    const s = [0, 0, 0, 0, 0, 0, 0, 0];
    let k = at;
    for (; k + 8 <= end; k += 8) for (let j = 0; j < 8; j++) s[j] += w[k + j] * w[k + j];
    let block = (s[0] + s[2] + (s[4] + s[6])) + (s[1] + s[3] + (s[5] + s[7]));
    for (; k < end; k++) block += w[k] * w[k];
    sums.push(block);
  }
  return sums;
}

/** Σ w^2 over every W_l in the module's order: the block sums, layer after layer, added in order. */
function blockOrderSum(W: readonly Float32Array[]): number {
  let total = 0;
  for (const w of W) for (const b of blockSums(w)) total += b;
  return total;
}

describe('the L2 term on the fast pass', () => {
  it.each(NETS.map((layers) => ({ layers })))('addL2Grad gives addScaled\'s bits, on 1 and 2 threads ($layers)', ({ layers }) => {
    for (const lambda of LAMBDAS) {
      const results = [1, 2].map((threads) => {
        const wp = randomPass(layers, threads, 7);
        const ref = wp.dW.map((g) => g.slice());
        addScaled(ref, lambda, wp.W);
        wp.addL2Grad(lambda);
        wp.dW.forEach((g, l) => expect(bytes(g).equals(bytes(ref[l])), `lambda ${lambda}, W_${l}`).toBe(true));
        const grads = wp.grads.slice();
        wp.dispose();
        return grads;
      });
      expect(bytes(results[1]).equals(bytes(results[0])), `lambda ${lambda}: threads`).toBe(true);
    }
    rt.setThreads(1);
  });

  it.each(NETS.map((layers) => ({ layers })))('l2Sum is the block-order sum, the same on 1 and 2 threads, within rounding of the sequential sum ($layers)', ({ layers }) => {
    const sums = [1, 2].map((threads) => {
      const wp = randomPass(layers, threads, 11);
      const s = wp.l2Sum();
      expect(s).toBe(blockOrderSum(wp.W));
      const sequential = sumOfSquares(wp.W);
      const count = wp.W.reduce((n, w) => n + w.length, 0);
      expect(Math.abs(s - sequential)).toBeLessThanOrEqual(count * 2 ** -53 * sequential);
      wp.dispose();
      return s;
    });
    expect(sums[1]).toBe(sums[0]);
    rt.setThreads(1);
  });

  // The total rounds away most differences of a block's sum (ulps of ~40 in a sum
  // of ~5e4): the kernel's block sums themselves, on 1 and 2 threads.
  it('l2_sums writes each block\'s sum in the block order, on 1 and 2 threads', () => {
    const n = 37 * L2_BLOCK + 13;
    const at = rt.heap.alloc(8 * 38 + 4 * n);
    const out = rt.heap.f64(at, 38);
    const w = rt.heap.f32(at + 8 * 38, n);
    const rng = new Rng(3, 4);
    w.forEach((_, i) => (w[i] = rng.uniform() - 0.5));
    const ref = blockSums(w);
    for (const threads of [1, 2]) {
      rt.setThreads(threads);
      out.fill(NaN);
      moduleCalls(rt).l2_sums(38, 3, { out, W: w, n });
      expect(Array.from(out)).toEqual(ref);
    }
    rt.setThreads(1);
    rt.heap.release(at);
  });

  it('the padding of the panels stays zero and the biases are not decayed', () => {
    const wp = randomPass([300, 20, 17, 10], 1, 5);
    const before = wp.grads.slice();
    wp.addL2Grad(0.5);
    for (let l = 0; l < wp.model.L; l++) {
      const b = wp.layout.bAt(l);
      expect(bytes(wp.grads.subarray(b, b + wp.model.slots[l].O)).equals(bytes(before.subarray(b, b + wp.model.slots[l].O)))).toBe(true);
    }
    const { I, O } = wp.model.slots[0];
    const used = new Set<number>();
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) used.add(wp.layout.wIndex(0, o, i));
    for (let k = 0; k < wp.W[0].length; k++) if (!used.has(k)) expect(wp.dW[0][k]).toBe(0);
    wp.dispose();
  });
});
