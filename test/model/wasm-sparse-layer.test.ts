// The fast pass's first layer on a large batch (src/model/wasm-sparse-layer.ts:
// spmm_x and spmm_xt in blocks, no whole CSR) on real MNIST rows: the products
// equal the previous large-batch path (csr_pairs + spmm, and gemm's X^T delta on
// packed panels) bit for bit, and the forward and backward passes give the
// same bits on 1 and 2 threads. (test/kernels/wasm-sparse.test.ts holds the kernels to those paths on
// awkward shapes; wasm-pass.test.ts the pass to float64.)
import { describe, expect, it } from 'vitest';
import { PIXEL } from '../../src/data/batches.js';
import { loadSplit } from '../../src/data/mnist.js';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { runGemm } from '../../src/kernels/wasm/gemm-job.js';
import { panelFloats, ROW_MAJOR } from '../../src/kernels/wasm/gemm-wat.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { SPMM_TILE_Q } from '../../src/kernels/wasm/sparse-wat.js';
import { Mlp } from '../../src/model/mlp.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { SPARSE_MAX_DENSITY, sparseInput } from '../../src/model/wasm-sparse-layer.js';
import { SLOT_ROWS, XT_BLOCK } from '../../src/model/wasm-buffers.js';

const rt = wasmRuntime().runtime!;
const test = loadSplit({ images: null, labels: null }, 'test', 10);
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A pass for `n` rows of MNIST test images (n > SLOT_ROWS: the large-batch path), its forward pass and gradients done. */
function run(layers: number[], n: number): WasmPass {
  const model = new Mlp({ layers, hidden: 'sigmoid', output: 'sigmoid' });
  model.init('glorot_uniform', 4, 'prior');
  const wp = new WasmPass(model, rt, { capacity: n, optimizer: { name: 'sgd', momentum: 0.9 } });
  wp.load(model.params, { velocity: new Float32Array(model.params.length) });
  for (let i = 0; i < n * 784; i++) wp.X[i] = PIXEL[test.images[i]];
  wp.forward(n);
  for (let i = 0; i < n * 10; i++) wp.dY[i] = wp.Y[i] - (i % 10 === test.labels[Math.floor(i / 10)] ? 1 : 0);
  wp.backwardOutput();
  wp.backwardLayers();
  return wp;
}

describe('the first layer of a large batch', () => {
  // 2 blocks of XT_BLOCK samples and a short one; an odd row count; 301 outputs: 18 tiles of 16, one of 8, 4 + 1 at the edge
  const n = 2 * XT_BLOCK + 77;
  it.each([[[784, 301, 10]], [[784, 40, 10]]])('%j: Z_0 and dW_0 equal csr_pairs + spmm and gemm on packed panels bit for bit', (layers) => {
    expect(n).toBeGreaterThan(SLOT_ROWS);
    const wp = run(layers, n);
    const k = moduleCalls(rt);
    const { I, O } = wp.model.slots[0];
    const ld = wp.layout.ldW[0], ps = wp.layout.psW[0];
    const h = rt.heap;
    const R = h.alloc(8 * Math.ceil(n / 2)), E = h.alloc(12 * 2 * Math.ceil(n / 2) * I), Z = h.alloc(4 * n * O);
    const dW = h.alloc(4 * panelFloats(I, O)), S = h.alloc(2 * 4 * 5 * n); // gemm panel scratch for up to 2 threads
    // Z_0 = b + X W_0^T: the previous path (the forward pass left Z_0 as that, then ran the sigmoid on A_0)
    for (let p = 0; p < n; p++) h.f32(Z + 4 * p * O, O).set(wp.b[0]);
    k.csr_pairs({ X: wp.X, N: n, K: I, ldb: ld, R, E });
    k.spmm(Math.ceil(O / SPMM_TILE_Q), 1, { C: Z, ldc: O, cps: ROW_MAJOR, R, P: n, B: wp.W[0], bps: ps, Q: O, acc: 1 });
    expect(same(wp.Z[0].subarray(0, n * O), h.f32(Z, n * O))).toBe(true);
    // dW_0^T = X^T delta_0 by gemm on the packed panels of X^T
    h.f32(dW, panelFloats(I, O)).set(wp.dW[0]);
    runGemm(k, { at: S, bytes: 4 * 5 * n }, { C: dW, ldc: ld, cps: ps, A: wp.X, ars: 1, aks: I, B: wp.delta[0], ldb: O, bps: ROW_MAJOR, P: I, Q: O, K: n, acc: 0 });
    expect(same(wp.dW[0], h.f32(dW, panelFloats(I, O)))).toBe(true);
    for (const at of [R, E, Z, dW, S]) h.release(at);
    wp.dispose();
  });

  it('gives the same bits on 1 and 2 threads (forward and gradients)', () => {
    const outputs = [1, 2].map((threads) => {
      rt.setThreads(threads);
      const wp = run([784, 300, 10], n);
      const out = [wp.Z[0].slice(0, n * 300), wp.Y.slice(0, n * 10), wp.delta[0].slice(0, n * 300), wp.grads.slice()];
      wp.dispose();
      return out;
    });
    rt.setThreads(1);
    outputs[0].forEach((a, j) => expect(same(outputs[1][j], a), `output ${j}`).toBe(true));
  });
});

describe('the first layer on dense data (wasm-sparse-layer.ts sparseInput: the choice by density)', () => {
  it('takes the sparse products up to SPARSE_MAX_DENSITY non-zero inputs and gemm above it', () => {
    expect(sparseInput(0.19)).toBe(true); // MNIST's pixels
    expect(sparseInput(0.5)).toBe(true); // Fashion-MNIST's: the sparse products still cost less there
    expect(sparseInput(SPARSE_MAX_DENSITY)).toBe(true);
    expect(sparseInput(1)).toBe(false); // no zeros at all
  });

  // MNIST test rows with every zero pixel made 1/255: no zeros at all, as dense as data get
  const n = 100;
  function pass(inputDensity: number): { wp: WasmPass; model: Mlp } {
    const model = new Mlp({ layers: [784, 64, 10], hidden: 'sigmoid', output: 'sigmoid' });
    model.init('glorot_uniform', 5, 'prior');
    const wp = new WasmPass(model, rt, { capacity: n, optimizer: { name: 'sgd', momentum: 0.9 }, inputDensity });
    wp.load(model.params, { velocity: new Float32Array(model.params.length) });
    for (let i = 0; i < n * 784; i++) wp.X[i] = PIXEL[Math.max(1, test.images[i])];
    wp.forward(n);
    for (let i = 0; i < n * 10; i++) wp.dY[i] = wp.Y[i] - (i % 10 === test.labels[Math.floor(i / 10)] ? 1 : 0);
    wp.backwardOutput();
    wp.backwardLayers();
    return { wp, model };
  }

  it('gemm (dense data) and the sparse products agree on Z_0, Y and dW_0 within float32 rounding', () => {
    const sparse = pass(0);
    const dense = pass(1);
    // each Z_0 entry is a sum of 784 float32 products of size <= 0.1: both orders are within 784 ulp-sized
    // roundings of the exact sum, so 1e-5 relative to the largest entry bounds their difference
    const close = (a: Float32Array, b: Float32Array): void => {
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(b[i]));
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-5 * max);
    };
    close(dense.wp.Z[0].subarray(0, n * 64), sparse.wp.Z[0].subarray(0, n * 64));
    close(dense.wp.Y.subarray(0, n * 10), sparse.wp.Y.subarray(0, n * 10));
    close(dense.wp.dW[0], sparse.wp.dW[0]);
    // and the same classes for every row
    const cls = (Y: Float32Array, i: number): number => { let b = 0; for (let j = 1; j < 10; j++) if (Y[i * 10 + j] > Y[i * 10 + b]) b = j; return b; };
    for (let i = 0; i < n; i++) expect(cls(dense.wp.Y, i)).toBe(cls(sparse.wp.Y, i));
    sparse.wp.dispose();
    dense.wp.dispose();
  });
});
