// The training pass in the WebAssembly memory (src/model/wasm-pass.ts) against
// a float64 reference on awkward shapes, the sparse forward product against the
// dense one, thread counts, the parameter layout, the optimizer step and the
// batch loader.
//
// Tolerances: the pass sums in float32 (fused multiply-adds) and its sigmoid
// uses a polynomial e^x (about 2 ulp); every value is compared with the float64
// reference relative to the largest magnitude of its array: 2e-5 leaves room
// for sums of up to 784 float32 terms (sqrt(784) * 2^-24 * a few) and fails
// at any wrong index, transpose or missing term (errors of order 1).
import { describe, expect, it } from 'vitest';
import { Batcher, PIXEL } from '../../src/data/batches.js';
import { limitDataset, loadSplit } from '../../src/data/mnist.js';
import { moduleBatchWriter } from '../../src/data/module-batches.js';
import { selectKernels } from '../../src/kernels/matmul.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { Mlp, type HiddenActivation, type OutputActivation } from '../../src/model/mlp.js';
import { sgdStep, type SgdSettings } from '../../src/model/optimizer.js';
import { Pass } from '../../src/model/pass.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { Rng } from '../../src/rng.js';
import { expectSameBitsOnThreads } from '../helpers/threads.js';

const rt = wasmRuntime().runtime!;
const REL = 2e-5;
const PLAIN: SgdSettings = { name: 'sgd', momentum: 0 };

/** A fast pass for batches of up to `capacity` rows. */
function wasmPass(model: Mlp, capacity: number, optimizer: SgdSettings = PLAIN): WasmPass {
  return new WasmPass(model, rt, { capacity, optimizer });
}

/** Inputs like MNIST rows: a fraction `zeros` of exact zeros, the rest in (0, 1]. */
function pixels(n: number, rng: Rng, zeros: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() < zeros ? 0 : Math.max(1 / 255, rng.uniform());
  return a;
}

function expectNear(label: string, got: ArrayLike<number>, ref: ArrayLike<number>): void {
  expect(got.length, label).toBe(ref.length);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= REL * scale + 1e-30)) {
      expect.fail(`${label}[${i}]: ${got[i]} vs ${ref[i]} (scale ${scale})`);
    }
  }
}

/** Layer l's weights (or gradient) in the pass's working layout -> W [O, I]. */
function untranspose(wp: WasmPass, l: number, WT: Float32Array): Float32Array {
  const { I, O } = wp.model.slots[l];
  const W = new Float32Array(I * O);
  for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) W[o * I + i] = WT[wp.layout.wIndex(l, o, i)];
  return W;
}

interface Case {
  layers: number[];
  hidden: HiddenActivation;
  output: OutputActivation;
  n: number;
  zeros: number;
  pieces?: number; // maxout_pieces
}

// N = 1; N not a multiple of the 4-row tile; O = 10 (16-column tiles leave 10, the
// 8-wide tile 2); outputs not a multiple of 8; deep nets; JS activations (tanh,
// softmax) on the shared memory; dense and MNIST-sparse inputs.
const CASES: Case[] = [
  { layers: [784, 300, 10], hidden: 'sigmoid', output: 'sigmoid', n: 1, zeros: 0.81 },
  { layers: [784, 64, 10], hidden: 'sigmoid', output: 'sigmoid', n: 7, zeros: 0.81 },
  { layers: [13, 30, 10], hidden: 'sigmoid', output: 'sigmoid', n: 6, zeros: 0.5 },
  { layers: [20, 17, 9, 10], hidden: 'sigmoid', output: 'softmax', n: 5, zeros: 0.3 },
  { layers: [37, 45, 10], hidden: 'tanh', output: 'sigmoid', n: 9, zeros: 0 },
  { layers: [50, 33, 21, 10], hidden: 'relu', output: 'softmax', n: 13, zeros: 0.6 },
  // a large batch: the sparse product split by row pairs, the weight gradient in blocks of K = n
  { layers: [784, 300, 10], hidden: 'sigmoid', output: 'sigmoid', n: 2501, zeros: 0.81 },
  // softplus in the module (its polynomial log and e^x, about 2 ulp each: elementwise-wat.ts)
  { layers: [784, 64, 10], hidden: 'softplus', output: 'sigmoid', n: 7, zeros: 0.81 },
  { layers: [20, 17, 9, 10], hidden: 'softplus', output: 'softmax', n: 5, zeros: 0.3 },
  // maxout: Z and delta H k wide, A and dA H; a panelled first layer of 80 rows; 21 rows (panel padding),
  // then 15 rows (a narrow layer: dot_rows) and the output; 42 rows on the dense path with its transpose;
  // a batch over SLOT_ROWS (no CSR slots)
  { layers: [784, 40, 10], hidden: 'maxout', pieces: 2, output: 'softmax', n: 9, zeros: 0.81 },
  { layers: [37, 7, 5, 10], hidden: 'maxout', pieces: 3, output: 'sigmoid', n: 6, zeros: 0 },
  { layers: [50, 33, 21, 10], hidden: 'maxout', pieces: 2, output: 'softmax', n: 13, zeros: 0.6 },
  { layers: [784, 30, 10], hidden: 'maxout', pieces: 2, output: 'softmax', n: 1100, zeros: 0.81 },
  // W^T rows padded (256 -> 272, 512 -> 528 floats: wasm-layout.ts's rowStride), relu in the module;
  // dA by (W^T delta^T)^T (n = 12), and by delta W where gemm's edges would differ (n = 10)
  { layers: [40, 256, 512, 10], hidden: 'relu', output: 'softmax', n: 12, zeros: 0.3 },
  { layers: [40, 256, 512, 10], hidden: 'relu', output: 'softmax', n: 10, zeros: 0.3 },
];

function makeModel(c: Case, seed: number): Mlp {
  const model = new Mlp({ layers: c.layers, hidden: c.hidden, output: c.output, maxout_pieces: c.pieces });
  model.init('glorot_uniform', seed, 'zero');
  const rng = new Rng(seed, 5);
  for (const b of model.b) for (let o = 0; o < b.length; o++) b[o] = rng.uniform() - 0.5;
  return model;
}

/** A pass of `capacity` rows after forward and backward on n MNIST-like rows, with dE/dY = sin(i). */
function backwardOnce(model: Mlp, capacity: number, n: number): WasmPass {
  const wp = wasmPass(model, capacity);
  wp.load(model.params, { velocity: new Float32Array(model.params.length) });
  wp.X.set(pixels(n * 784, new Rng(4, 0), 0.81));
  wp.forward(n);
  for (let i = 0; i < n * 10; i++) wp.dY[i] = Math.sin(i);
  wp.backwardOutput();
  wp.backwardLayers();
  return wp;
}

describe('WasmPass: the training pass in the WebAssembly memory', () => {
  it.each(CASES)('forward, dW, db and delta match float64 (%j)', (c) => {
    const model = makeModel(c, 3);
    const { n } = c;
    const I0 = c.layers[0];
    const O = c.layers[c.layers.length - 1];
    const rng = new Rng(11, 0);
    const X = pixels(n * I0, rng, c.zeros);
    if (c.layers[0] === 13) {
      X.fill(0, 0, I0); // an all-zero row
      X.fill(0.5, 2 * I0, 3 * I0); // an all-non-zero row
    }
    const dY = new Float32Array(n * O).map(() => rng.uniform() - 0.5);

    const wp = wasmPass(model, n);
    wp.load(model.params, { velocity: new Float32Array(model.params.length) });
    wp.X.set(X);
    wp.forward(n);
    wp.dY.set(dY);
    wp.backwardOutput();
    wp.backwardLayers();

    const m64 = new Mlp(model.spec, Float64Array);
    m64.params.set(model.params);
    const ref = new Pass(m64, n, n > 1000 ? 'blocked' : 'naive'); // blocked: the same float64 sums, faster
    ref.forward(n, Float64Array.from(X));
    ref.dY.set(dY);
    ref.backwardOutput();
    ref.backwardLayers();

    for (let l = 0; l < model.L; l++) {
      const { O: Ol, units } = model.slots[l];
      expectNear(`Z[${l}]`, wp.Z[l].subarray(0, n * Ol), ref.Z[l].subarray(0, n * Ol));
      expectNear(`A[${l}]`, wp.A[l].subarray(0, n * units), ref.A[l].subarray(0, n * units));
      expectNear(`delta[${l}]`, wp.delta[l].subarray(0, n * Ol), ref.delta[l].subarray(0, n * Ol));
      expectNear(`dW[${l}]`, untranspose(wp, l, wp.dW[l]), ref.dW[l]);
      expectNear(`db[${l}]`, wp.db[l], ref.db[l]);
    }
    wp.dispose();
  });

  it('the sparse first-layer products (forward and weight gradient) equal the dense SIMD products bit for bit (skipping zeros is exact)', () => {
    for (const [n, H] of [[100, 800], [9, 40]]) {
      const model = new Mlp({ layers: [784, H, 10], hidden: 'sigmoid', output: 'sigmoid' });
      model.init('glorot_uniform', 7, 'zero');
      model.b[0].fill(0.25);
      const X = pixels(n * 784, new Rng(2, 0), 0.81);
      const wp = wasmPass(model, n);
      wp.load(model.params, { velocity: new Float32Array(model.params.length) });
      wp.X.set(X);
      wp.forward(n);
      const dense = new Float32Array(n * H);
      selectKernels('wasm').kernels.forward(dense, X, model.W[0], model.b[0], n, 784, H);
      expect(Buffer.from(wp.Z[0].buffer, wp.Z[0].byteOffset, 4 * n * H).equals(Buffer.from(dense.buffer))).toBe(true);
      // the weight gradient X^T delta_0 over the CSR of X's column pairs, against the dense kernel
      for (let i = 0; i < n * 10; i++) wp.dY[i] = Math.sin(i);
      wp.backwardOutput();
      wp.backwardLayers();
      const dW = new Float32Array(H * 784), db = new Float32Array(H);
      selectKernels('wasm').kernels.backward(null, dW, db, wp.delta[0].slice(0, n * H), X, model.W[0], n, 784, H);
      expect(Buffer.from(untranspose(wp, 0, wp.dW[0]).buffer).equals(Buffer.from(dW.buffer))).toBe(true);
      wp.dispose();
    }
  });

  // [784, 256, 600, 10]: the 256 -> 600 products are split by column blocks (gemm_cols), the rest by rows.
  it.each([[784, 300, 10], [784, 256, 600, 10]])('gives the same bits on 1 and 2 threads (forward, gradients, step), layers %j', (...layers) => {
    const run = (threads: number): Float32Array[] => {
      rt.setThreads(threads);
      const model = makeModel({ layers, hidden: 'sigmoid', output: 'sigmoid', n: 0, zeros: 0 }, 5);
      const n = 100;
      const wp = wasmPass(model, n, { name: 'sgd', momentum: 0.9 });
      wp.load(model.params, { velocity: new Float32Array(model.params.length) });
      wp.X.set(pixels(n * 784, new Rng(4, 0), 0.81));
      wp.forward(n);
      for (let i = 0; i < n * 10; i++) wp.dY[i] = wp.Y[i] - (i % 10 === (i / 10) % 10 ? 1 : 0);
      wp.backwardOutput();
      wp.backwardLayers();
      const grads = wp.grads.slice();
      wp.step({ lr: 0.5, d: n, t: 1, loss: 0 });
      const out = [wp.Y.slice(0, n * 10), grads, wp.params.slice(), wp.state.velocity.slice()];
      wp.dispose();
      return out;
    };
    expectSameBitsOnThreads((t) => rt.setThreads(t), run);
  });

  // A pass for small batches runs a relu net's hidden layers over its inputs' zeros (wasm-sparse-layer.ts)
  // and takes dA_{l-1} = (W_l^T delta_l^T)^T with delta_l copied into padded rows; a pass for batches over
  // SLOT_ROWS runs the dense gemm, transposes W_l^T and reads delta_l as it is (wasm-dense.ts): same bits.
  it.each<[number[], number]>([
    [[784, 1024, 256, 10], 128],
    [[784, 200, 296, 24, 10], 10], // 296 and 24 outputs: not multiples of 16; batch 10: gemm's edge tiles
  ])('a relu net %j: the sparse and transposed products (batch %i) give the dense ones\' bits', (layers, n) => {
    const run = (capacity: number): Float32Array[] => {
      const model = makeModel({ layers, hidden: 'relu', output: 'softmax', n: 0, zeros: 0 }, 8);
      const wp = backwardOnce(model, capacity, n);
      const out = [...wp.Z.map((Z, l) => Z.slice(0, n * model.slots[l].O)), wp.dA[0].slice(0, n * layers[1]), wp.grads.slice()];
      wp.dispose();
      return out;
    };
    const [small, large] = [run(n), run(1100)];
    for (const [j, a] of small.entries()) expect(Buffer.from(a.buffer).equals(Buffer.from(large[j].buffer)), `array ${j}`).toBe(true);
    expect(small[1].some((v) => v !== 0)).toBe(true);
  });

  it.each([
    ['softplus', 2],
    ['maxout', 3],
  ] as const)('%s hidden units give the same bits on 1 and 2 threads (forward, gradients)', (hidden, pieces) => {
    const run = (threads: number): Float32Array[] => {
      rt.setThreads(threads);
      const model = makeModel({ layers: [784, 64, 32, 10], hidden, pieces, output: 'softmax', n: 0, zeros: 0 }, 6);
      const n = 100;
      const wp = backwardOnce(model, n, n);
      const out = [wp.A[0].slice(0, n * 64), wp.Y.slice(0, n * 10), wp.grads.slice()];
      wp.dispose();
      return out;
    };
    expectSameBitsOnThreads((t) => rt.setThreads(t), run);
  });

  it('load and store copy parameters and velocity exactly, each W stored transposed in between', () => {
    const model = makeModel(CASES[3], 9);
    const velocity = new Float32Array(model.params.length).map((_, i) => Math.sin(i));
    const wp = wasmPass(model, 4, { name: 'sgd', momentum: 0.9 });
    wp.load(model.params, { velocity });
    for (let l = 0; l < model.L; l++) {
      expect(Array.from(untranspose(wp, l, wp.W[l]))).toEqual(Array.from(model.W[l]));
      expect(Array.from(wp.b[l])).toEqual(Array.from(model.b[l]));
      // the padding of a 16-column panel layout (layer 0: 17 outputs, 15 padding columns) is zero
      // in W, the velocity and the gradient, so sums over the working W (L2) are the model's
      const { I, O } = model.slots[l];
      const used = new Set<number>();
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) used.add(wp.layout.wIndex(l, o, i));
      expect(used.size).toBe(I * O);
      const padding = (a: Float32Array): number[] => Array.from(a).filter((_, k) => !used.has(k));
      expect(padding(wp.W[l]).length).toBe(l === 0 ? 15 * I : 0);
      expect(padding(wp.W[l]).every((x) => x === 0)).toBe(true);
      expect(padding(wp.dW[l]).every((x) => x === 0)).toBe(true);
      expect(padding(wp.state.velocity.subarray(wp.layout.wAt[l], wp.layout.bAt(l))).every((x) => x === 0)).toBe(true);
    }
    const params2 = new Float32Array(model.params.length);
    const velocity2 = new Float32Array(model.params.length);
    wp.store(params2, { velocity: velocity2 });
    expect(Array.from(params2)).toEqual(Array.from(model.params));
    expect(Array.from(velocity2)).toEqual(Array.from(velocity));
    wp.dispose();
  });

  // (mu, lr, d): plain descent; the trainer's momentum with 1/7 and 1/3 inexact in float32;
  // d = 1; a large lr, mu near 1 and a large batch.
  it.each([
    [0, 0.3, 7],
    [0.9, 0.3, 7],
    [0.9, 0.1, 3],
    [0.5, 0.05, 1],
    [0.99, 2.5, 1000],
  ])('the SGD step (momentum %f, lr %f, d %i) matches sgdStep in float64 to float32 rounding', (mu, lr, d) => {
    const model = makeModel(CASES[3], 4); // [20, 17, 9, 10]: a panelled layer 0 with padding, a narrow last layer
    const P = model.params.length;
    const rng = new Rng(8, 2);
    const params = new Float32Array(P).map(() => rng.uniform() - 0.5);
    const grads = new Float32Array(P).map(() => d * (rng.uniform() - 0.5)); // summed over d rows
    const velocity = new Float32Array(P).map(() => 0.5 * (rng.uniform() - 0.5));
    const wp = wasmPass(model, 4, { name: 'sgd', momentum: mu });
    wp.load(params, { velocity });
    wp.layout.toWorking(wp.grads, grads); // the gradient in the pass's layout, its padding left 0
    wp.step({ lr, d, t: 1, loss: 0 });
    const p32 = new Float32Array(P);
    const v32 = new Float32Array(P);
    wp.store(p32, { velocity: v32 });
    wp.dispose();

    const p64 = Float64Array.from(params);
    const v64 = Float64Array.from(velocity);
    sgdStep(p64, Float64Array.from(grads), v64, mu, lr, 1 / d);
    // The float64 reference is exact to ~1e-16; the module's update rounds in float32 (u = 2^-24),
    // mu, 1/d and lr included, as they go in as float32 bits:
    //   mu > 0: v = fl(fl(mu v) + fl((1/d) g)): two roundings per product, one for the sum, so
    //           |v32 - v64| <= 3u (|mu v| + |g|/d) to first order; 4u covers the second order.
    //           p = fl(p - fl(lr v)) inherits lr |v32 - v64|, plus lr's and the product's roundings
    //           (2u lr|v|) and the subtraction's (u (|p| + lr|v|)): within lr vBound + 4u (|p| + lr|v|).
    //   mu = 0: p = fl(p - fl(fl(lr (1/d)) g)): lr, 1/d, their product and the product with g round
    //           the step (4u lr|g|/d), the subtraction u (|p| + lr|g|/d): 6u leaves margin; v is not touched.
    const u = 2 ** -24;
    for (let i = 0; i < P; i++) {
      if (mu > 0) {
        const vBound = 4 * u * (mu * Math.abs(velocity[i]) + Math.abs(grads[i]) / d);
        const pBound = lr * vBound + 4 * u * (Math.abs(params[i]) + lr * Math.abs(v64[i]));
        if (!(Math.abs(v32[i] - v64[i]) <= vBound)) expect.fail(`v[${i}]: ${v32[i]} vs ${v64[i]} > ${vBound}`);
        if (!(Math.abs(p32[i] - p64[i]) <= pBound)) expect.fail(`p[${i}]: ${p32[i]} vs ${p64[i]} > ${pBound}`);
      } else {
        const pBound = 6 * u * (Math.abs(params[i]) + (lr * Math.abs(grads[i])) / d);
        if (!(Math.abs(p32[i] - p64[i]) <= pBound)) expect.fail(`p[${i}]: ${p32[i]} vs ${p64[i]} > ${pBound}`);
        if (v32[i] !== velocity[i]) expect.fail(`v[${i}] moved without momentum: ${v32[i]} vs ${velocity[i]}`);
      }
    }
  });

  it('a Batcher on the pass X writes batches through the module: the plain Batcher batch, and the forward pass on it matches float64', () => {
    const data = limitDataset(loadSplit({ images: null, labels: null }, 'test', 10), 300);
    const model = makeModel({ layers: [784, 40, 10], hidden: 'sigmoid', output: 'sigmoid', n: 0, zeros: 0 }, 2);
    const size = 64;
    const wp = wasmPass(model, size);
    wp.load(model.params, { velocity: new Float32Array(model.params.length) });
    // the batches under test go through load_batch, not the Batcher's own loop (null writer)
    expect(moduleBatchWriter(data, wp.X, PIXEL)).not.toBeNull();
    const fast = new Batcher(data, size, wp.X);
    const plain = new Batcher(data, size);
    expect(moduleBatchWriter(data, plain.X, PIXEL)).toBeNull();
    // the reference: float64 on the plain Batcher's copy of the same samples
    const m64 = new Mlp(model.spec, Float64Array);
    m64.params.set(model.params);
    const ref = new Pass(m64, size, 'naive', false);
    const rng1 = new Rng(3, 1);
    const rng2 = new Rng(3, 1);
    fast.shuffle(rng1);
    plain.shuffle(rng2);
    for (const k of [0, 4]) {
      // batch 4 is the short last one: 300 = 4 * 64 + 44
      const n = fast.load(k);
      expect(plain.load(k)).toBe(n);
      expect(Array.from(fast.labels.subarray(0, n))).toEqual(Array.from(plain.labels.subarray(0, n)));
      expect(Array.from(wp.X.subarray(0, n * 784))).toEqual(Array.from(plain.X.subarray(0, n * 784)));
      wp.forward(n);
      ref.forward(n, Float64Array.from(plain.X.subarray(0, n * 784)));
      expectNear(`Z[0] of batch ${k}`, wp.Z[0].subarray(0, n * 40), ref.Z[0].subarray(0, n * 40));
      expectNear(`Y of batch ${k}`, wp.Y.subarray(0, n * 10), ref.Y.subarray(0, n * 10));
    }
    wp.dispose();
  });
});
