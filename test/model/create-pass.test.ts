// createTrainPass picks the backend; whichever it picks, one training step
// (src/train/trainer.ts trainBatch: batch -> forward -> objective values ->
// objective.backward -> step) must do what the float64 reference does. The
// fast pass (float32, WebAssembly memory, its own parameter layout) and the
// reference Pass on a float64 copy of the model start from the same
// parameters and the same non-zero velocity, take one step on the same 7 MNIST
// test rows (not a multiple of the 4-row tile; labels 7 2 1 0 4 1 4, so two
// classes have two samples for the discriminative class means), and must end
// with the same parameters and velocity within a bound derived below. With
// dropout both passes draw the masks of the same step (src/model/dropout.ts),
// so they train the same masked network.
import { describe, expect, it } from 'vitest';
import type { LossName } from '../../src/config/schema.js';
import { Batcher } from '../../src/data/batches.js';
import { limitDataset, loadSplit } from '../../src/data/mnist.js';
import type { Vec } from '../../src/kernels/matmul.js';
import { createTrainPass } from '../../src/model/create-pass.js';
import { NO_PASS_REGULARIZATION } from '../../src/model/dropout.js';
import { Mlp, type OutputActivation } from '../../src/model/mlp.js';
import type { SgdSettings } from '../../src/model/optimizer.js';
import { Pass, type TrainPass } from '../../src/model/pass.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { oneHot, type OutputBatch } from '../../src/objective/batch.js';
import { Discriminative } from '../../src/objective/discriminative.js';
import { Objective, type ObjectiveSpec, type TermValues } from '../../src/objective/objective.js';
import { Rng } from '../../src/rng.js';
import { expectClose } from '../helpers/gradcheck.js';

const N = 7;
const LAYERS = [784, 37, 10];
const O = 10;
const LR = 0.5;
const OPTIMIZER: SgdSettings = { name: 'sgd', momentum: 0.9 };
/** The fast pass's error per value, relative to the largest magnitude of its array (wasm-pass.test.ts). */
const REL = 2e-5;
const u = 2 ** -24;

const data = limitDataset(loadSplit({ images: null, labels: null }, 'test', 10), N);

interface StepCase {
  loss: LossName;
  output: OutputActivation;
  gamma: number;
  lambda: number;
  /** Drop probabilities of the inputs and of the hidden outputs (none if absent). */
  dropout?: [number, number];
}

const CASES: StepCase[] = [
  { loss: 'mse', output: 'sigmoid', gamma: 0, lambda: 0 },
  { loss: 'cross_entropy', output: 'softmax', gamma: 0, lambda: 0 },
  { loss: 'mse', output: 'sigmoid', gamma: 0.5, lambda: 0 },
  { loss: 'mse', output: 'sigmoid', gamma: 0, lambda: 0.01 },
  { loss: 'cross_entropy', output: 'softmax', gamma: 0.5, lambda: 0.01 },
  // scales 1.25 and 2 (exact), then 1/0.7 and 1/0.6 (rounded to float32 by the fast pass)
  { loss: 'mse', output: 'sigmoid', gamma: 0, lambda: 0, dropout: [0.2, 0.5] },
  { loss: 'cross_entropy', output: 'softmax', gamma: 0.5, lambda: 0.01, dropout: [0.3, 0.4] },
];
const STEP = 3; // the step whose masks the trainer would draw for its third batch

/** One step of the trainer on the N rows, on any pass; the values of the objective's terms before it. */
function trainStep(pass: TrainPass, model: Mlp, spec: ObjectiveSpec, D: Vec): { values: TermValues; batch: OutputBatch } {
  const batcher = new Batcher(data, N, pass.X); // through the module's load_batch when X is in its memory
  const n = batcher.load(0);
  pass.useMasks(STEP);
  pass.forward(n);
  oneHot(D, batcher.labels, n, O);
  const batch: OutputBatch = { n, O, Y: pass.Y, Z: pass.logits, D, labels: batcher.labels };
  const objective = new Objective(spec, model, pass);
  const values = { ...objective.values(batch) };
  objective.backward(pass, batch);
  pass.step({ lr: LR, d: n, t: STEP, loss: values.total });
  return { values, batch };
}

function maxAbs(a: ArrayLike<number>, from = 0, to = a.length): number {
  let m = 0;
  for (let k = from; k < to; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}

function sumAbs(a: ArrayLike<number>, len = a.length): number {
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.abs(a[k]);
  return s;
}

describe('createTrainPass: one full training step on the fast pass against the float64 reference', () => {
  it.each(CASES)('forward, objective, backward and sgd step agree (%j)', (c) => {
    const spec = { layers: LAYERS, hidden: 'sigmoid' as const, output: c.output };
    const m32 = new Mlp(spec);
    m32.init('glorot_uniform', 21, 'zero');
    const rng = new Rng(21, 3);
    for (const b of m32.b) for (let o = 0; o < b.length; o++) b[o] = 0.2 * (rng.uniform() - 0.5);
    const P = m32.params.length;
    const v0 = new Float32Array(P).map(() => 0.02 * (rng.uniform() - 0.5)); // of the order of g/d
    const m64 = new Mlp(spec, Float64Array);
    m64.params.set(m32.params);
    const p0 = Float64Array.from(m32.params);
    const objective: ObjectiveSpec = { loss: c.loss, gamma: c.gamma, lambda: c.lambda };
    const [input, hidden] = c.dropout ?? [0, 0];
    const regularization = { ...NO_PASS_REGULARIZATION, dropout: { input, hidden }, seed: 5 };

    const fast = createTrainPass(m32, { capacity: N, kernel: 'wasm', threads: 1, optimizer: OPTIMIZER, regularization });
    expect(fast).toBeInstanceOf(WasmPass);
    fast.load(m32.params, { velocity: v0 });
    const f = trainStep(fast, m32, objective, new Float32Array(N * O));
    const p32 = new Float32Array(P);
    const v32 = new Float32Array(P);
    fast.store(p32, { velocity: v32 });
    fast.dispose();

    const ref = new Pass(m64, N, 'naive', true, OPTIMIZER, regularization);
    expect(ref.dropout !== null).toBe(c.dropout !== undefined);
    ref.load(m64.params, { velocity: Float64Array.from(v0) });
    const r = trainStep(ref, m64, objective, new Float64Array(N * O));
    const p64 = m64.params;
    const v64 = ref.state.velocity;
    const g64 = ref.grads; // dE/dp summed over the batch, every term in

    // The bound. The step is v = mu v0 + g/d, p = p0 - lr v, from the same p0 and v0 in both.
    // The fast pass's gradient g32 differs from g64 by its float32 sums: within REL of the
    // largest |g| of each W_l and b_l (as the first test of wasm-pass.test.ts asserts for a
    // given dY); here dY itself comes from the float32 outputs (an error of REL max|Y| per
    // entry, up to 4 gamma times that through the class means), which at most doubles it. So
    //   |v32 - v64| <= 2 REL max|g|/d  +  4u (|mu v0| + |g|/d)     (the update's float32 rounding, wasm-pass.test.ts)
    //   |p32 - p64| <= lr |v32 - v64|  +  4u lr|v|  +  2u |p|        (the product and the subtraction)
    // 2 REL max|g|/d is 4e-5 of the gradient's scale (observed errors: about 1% of it). Dropping L2
    // (lambda W/d, up to 0.01 x 0.09 / 7) or the discriminative term from the reference, or giving it
    // the seed_blog discriminative gradient, moves some v by 20 to 400 times the bound (a flipped
    // sign moves it twice as far as dropping the term).
    const mu = OPTIMIZER.momentum;
    for (const [l, s] of m32.slots.entries()) {
      for (const [name, from, to] of [[`W[${l}]`, s.wOffset, s.bOffset], [`b[${l}]`, s.bOffset, s.bOffset + s.O]] as const) {
        let roundV = 0;
        for (let k = from; k < to; k++) roundV = Math.max(roundV, mu * Math.abs(v0[k]) + Math.abs(g64[k]) / N);
        const atolV = (2 * REL * maxAbs(g64, from, to)) / N + 4 * u * roundV;
        expectClose(v32.subarray(from, to), v64.subarray(from, to), { atol: atolV, rtol: 0 }, `velocity ${name}`);
        const atolP = LR * atolV + 4 * u * LR * maxAbs(v64, from, to);
        expectClose(p32.subarray(from, to), p64.subarray(from, to), { atol: atolP, rtol: 2 * u }, `params ${name}`);
        // the step is far above the bound, so the comparison tells a step from none (or from half of one)
        expect(maxAbs(p64.map((p, k) => p - p0[k]).subarray(from, to))).toBeGreaterThan(100 * atolP);
      }
    }

    // The values are sums over the outputs, computed in float64 from each pass's outputs. To
    // first order a value moves by Σ_k |dE/dy_k| |Δy_k| with |Δy_k| <= REL max|Y| (|Δz_k| <=
    // REL max|Z| for the cross-entropy, whose dE/dz = y - d); twice that covers the second order.
    // L2 sums the same float32 weights in another order (the working layout): float64 rounding.
    const Y64 = r.batch.Y;
    const Z64 = r.batch.Z;
    const D = r.batch.D;
    const residual = sumAbs(Y64.map((y, k) => y - D[k]), N * O);
    const dataAtol = 2 * REL * (c.loss === 'mse' ? maxAbs(Y64, 0, N * O) : maxAbs(Z64, 0, N * O)) * residual;
    expectClose([f.values.data], [r.values.data], { atol: dataAtol, rtol: 1e-12 }, 'data term');
    const dDisc = new Float64Array(N * O);
    if (c.gamma > 0) new Discriminative(c.gamma, O, O).addGradY(dDisc, r.batch);
    const discAtol = 2 * REL * maxAbs(Y64, 0, N * O) * sumAbs(dDisc);
    expectClose([f.values.discriminative], [r.values.discriminative], { atol: discAtol, rtol: 1e-12 }, 'discriminative term');
    expectClose([f.values.l2], [r.values.l2], { atol: 0, rtol: 1e-12 }, 'l2 term');
    expect(r.values.discriminative !== 0).toBe(c.gamma > 0);
    expect(r.values.l2 !== 0).toBe(c.lambda > 0);
  });

  it('gives the reference pass to a float64 model or a TypeScript kernel', () => {
    const spec = { layers: LAYERS, hidden: 'sigmoid' as const, output: 'sigmoid' as const };
    const m64 = new Mlp(spec, Float64Array);
    expect(createTrainPass(m64, { capacity: N, kernel: 'wasm', threads: 1, optimizer: OPTIMIZER })).toBeInstanceOf(Pass);
    expect(createTrainPass(new Mlp(spec), { capacity: N, kernel: 'naive', threads: 1, optimizer: OPTIMIZER })).toBeInstanceOf(Pass);
  });
});
