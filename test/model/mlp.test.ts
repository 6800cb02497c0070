import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Mlp, type HiddenActivation, type OutputActivation } from '../../src/model/mlp.js';
import { sgdStep } from '../../src/model/optimizer.js';
import { Pass } from '../../src/model/pass.js';
import type { OutputBatch } from '../../src/objective/batch.js';
import { Objective, type LossName } from '../../src/objective/objective.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// Whole-network float64 gradient checks: h = 1e-5 central differences of an O(1)
// objective err by ~1e-10; relu's kinks are avoided by the random data in practice
// (a crossing would show as one large outlier, not a small drift).
const TOL = { atol: 1e-7, rtol: 1e-5 };

interface Setup {
  model: Mlp;
  pass: Pass;
  X: Float64Array;
  batch: OutputBatch;
  objective: Objective;
}

function setup(layers: number[], hidden: HiddenActivation, output: OutputActivation, loss: LossName, gamma: number, lambda: number, pieces = 2): Setup {
  const model = new Mlp({ layers, hidden, output, maxout_pieces: pieces }, Float64Array);
  model.init('glorot_uniform', 42, 'zero');
  // Non-zero biases so their gradients are exercised off the init point.
  for (const b of model.b) b.set(randomArray(b.length, b.length + 3, -0.5, 0.5));
  const n = 7;
  const I = layers[0];
  const O = layers[layers.length - 1];
  const X = randomArray(n * I, 9, -1, 1);
  const labels = Uint8Array.from([0, 1, 1, 2, 0, 0, 1].map((c) => c % O));
  const D = new Float64Array(n * O);
  labels.forEach((c, i) => (D[i * O + c] = 1));
  const pass = new Pass(model, n, 'naive');
  const batch: OutputBatch = { n, O, Y: pass.Y, Z: pass.logits, D, labels };
  const objective = new Objective({ loss, gamma, lambda }, model, pass);
  return { model, pass, X, batch, objective };
}

function E(s: Setup): number {
  s.pass.forward(s.batch.n, s.X);
  return s.objective.values(s.batch).total;
}

const ARCHS: Array<[HiddenActivation, OutputActivation, LossName]> = [
  ['sigmoid', 'sigmoid', 'mse'],
  ['tanh', 'sigmoid', 'mse'],
  ['relu', 'sigmoid', 'mse'],
  ['sigmoid', 'softmax', 'mse'],
  ['sigmoid', 'softmax', 'cross_entropy'],
  ['relu', 'softmax', 'cross_entropy'],
  ['softplus', 'sigmoid', 'mse'],
  ['softplus', 'softmax', 'cross_entropy'],
  ['maxout', 'sigmoid', 'mse'],
  ['maxout', 'softmax', 'cross_entropy'],
];
const TERMS: Array<[number, number]> = [
  [0, 0],
  [0.5, 0],
  [0, 0.1],
  [0.8, 0.05],
];

/** The backward pass's dE/dparams against central differences of E, within TOL. */
function expectGradientMatches(s: ReturnType<typeof setup>): void {
  const numeric = centralDiff(() => E(s), s.model.params as Float64Array);
  E(s);
  s.pass.grads.fill(NaN);
  s.objective.backward(s.pass, s.batch);
  expectClose(s.pass.grads, numeric, TOL, 'dE/dparams');
}

describe('whole-network gradient vs float64 central differences', () => {
  for (const [hidden, output, loss] of ARCHS) {
    it.each(TERMS)(`${hidden}/${output}/${loss}, gamma %f, lambda %f, layers 5-4-3-3`, (gamma, lambda) => {
      expectGradientMatches(setup([5, 4, 3, 3], hidden, output, loss, gamma, lambda));
    });
  }
});

// maxout's kinks (two pieces of a unit equal) are crossed by a difference step
// only if two pieces lie within h = 1e-5 of each other: with random data that
// would show as one large outlier. k = 3 and deeper: two maxout layers, 3 pieces.
describe('maxout networks: whole-network gradient vs float64 central differences', () => {
  it.each([
    [[5, 4, 3], 2],
    [[5, 4, 3, 3], 3],
    [[6, 3, 5, 4], 4],
  ])('layers %j, %i pieces, gamma 0.5, lambda 0.1', (layers, pieces) => {
    const s = setup(layers, 'maxout', 'softmax', 'cross_entropy', 0.5, 0.1, pieces);
    expect(s.model.slots.map((sl) => [sl.O, sl.units])).toEqual(layers.slice(1).map((H, l) => [l < layers.length - 2 ? H * pieces : H, H]));
    expectGradientMatches(s);
  });

  it('the parameter count and the tensors use the real weight shape [H k, in]', () => {
    const model = new Mlp({ layers: [784, 240, 10], hidden: 'maxout', output: 'softmax', maxout_pieces: 5 });
    expect(model.params.length).toBe(784 * 1200 + 1200 + 240 * 10 + 10);
    expect(Mlp.paramCount([784, 240, 10], 5)).toBe(model.params.length);
    expect(model.namedTensors().map(([name, t]) => [name, t.shape])).toEqual([
      ['layers.0.weight', [1200, 784]],
      ['layers.0.bias', [1200]],
      ['layers.1.weight', [10, 240]],
      ['layers.1.bias', [10]],
    ]);
    // maxout_pieces means nothing to other units
    expect(new Mlp({ layers: [784, 240, 10], hidden: 'relu', output: 'softmax', maxout_pieces: 5 }).params.length).toBe(Mlp.paramCount([784, 240, 10]));
  });

  it('init draws fan_out from the real shape: glorot_uniform bound sqrt(6 / (in + H k))', () => {
    const model = new Mlp({ layers: [50, 40, 10], hidden: 'maxout', output: 'softmax', maxout_pieces: 4 }, Float64Array);
    model.init('glorot_uniform', 3, 'zero');
    const bound = Math.sqrt(6 / (50 + 160));
    const w = Array.from(model.W[0]);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * bound); // 8000 draws reach the edge
  });
});

describe('the worked example of seed 001 (3-2-2 sigmoid net, PyTorch float64 reference)', () => {
  const ref = JSON.parse(readFileSync(new URL('../fixtures/seed_example_3_2_2.json', import.meta.url), 'utf8'));
  const sf = ref.standard_form;
  const model = new Mlp({ layers: [3, 2, 2], hidden: 'sigmoid', output: 'sigmoid' }, Float64Array);
  const names = ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias'];
  const views = [model.W[0], model.b[0], model.W[1], model.b[1]];
  names.forEach((name, k) => views[k].set((sf.params[name] as number[] | number[][]).flat()));
  const X = Float64Array.from(sf.mlp_grad_input.x.flat());
  const D = Float64Array.from(sf.mlp_grad_input.targets.flat());
  const pass = new Pass(model, 1, 'naive');
  pass.forward(1, X);
  const batch: OutputBatch = { n: 1, O: 2, Y: pass.Y, Z: pass.logits, D, labels: null };
  const objective = new Objective({ loss: 'mse', gamma: 0, lambda: 0 }, model, pass);
  const values = objective.values(batch);
  objective.backward(pass, batch);
  // Same float64 arithmetic in a different order than PyTorch: agreement to ~1e-15 relative.
  const EXACT = { atol: 1e-15, rtol: 1e-12 };

  it('forward: every z and a, and E', () => {
    sf.layers.forEach((layer: { z: number[][]; a: number[][] }, l: number) => {
      expectClose(pass.Z[l], layer.z.flat(), EXACT, `z${l}`);
      expectClose(pass.A[l], layer.a.flat(), EXACT, `a${l}`);
    });
    expect(values.total).toBeCloseTo(sf.loss.total, 14);
  });

  it('backward: dE/dY, every delta and gradient', () => {
    expectClose(pass.dY, sf.dE_dY.flat(), EXACT, 'dE/dY');
    sf.layers.forEach((layer: { delta: number[][] }, l: number) => expectClose(pass.delta[l], layer.delta.flat(), EXACT, `delta${l}`));
    names.forEach((name, k) => {
      const grad = [pass.dW[0], pass.db[0], pass.dW[1], pass.db[1]][k];
      expectClose(grad, (sf.gradients[name] as number[] | number[][]).flat(), EXACT, name);
    });
  });

  it("the shared hidden bias b1 gets 0.0023882, not the article's printed 0.0008", () => {
    const b1 = pass.db[0][0] + pass.db[0][1];
    expect(b1).toBeCloseTo(ref.shared_bias_form.gradients.b1, 14);
    expect(b1).toBeCloseTo(0.0023882, 7);
    expect(Math.abs(b1 - 0.0008)).toBeGreaterThan(1e-3);
  });

  it('one step W -= lr (1/d) dE/dW with lr 0.01 gives the reference parameters and E', () => {
    sgdStep(model.params, pass.grads, new Float32Array(model.params.length), 0, sf.lr, 1 / sf.d);
    names.forEach((name, k) => expectClose(views[k], (sf.after_one_step[name] as number[] | number[][]).flat(), EXACT, name));
    pass.forward(1, X);
    expect(objective.values(batch).total).toBeCloseTo(sf.E_after_one_step, 14);
  });
});

describe('backprop keeps samples apart', () => {
  it('an upstream gradient on row i reaches only row i of every delta', () => {
    const s = setup([6, 5, 4], 'tanh', 'softmax', 'mse', 0, 0);
    s.pass.forward(7, s.X);
    const i = 3;
    s.pass.dY.fill(0);
    for (let j = 0; j < 4; j++) s.pass.dY[i * 4 + j] = j + 1;
    s.pass.backward();
    for (let l = 0; l < 2; l++) {
      const O = s.model.slots[l].O;
      for (let r = 0; r < 7; r++) {
        const row = Array.from(s.pass.delta[l].subarray(r * O, (r + 1) * O));
        if (r === i) expect(row.some((v) => v !== 0)).toBe(true);
        else expect(row).toEqual(new Array(O).fill(0));
      }
    }
  });

  it('the float32 network agrees with the float64 one within float32 rounding', () => {
    const s = setup([20, 8, 10], 'sigmoid', 'sigmoid', 'mse', 0.3, 0.01);
    E(s);
    s.objective.backward(s.pass, s.batch);
    const m32 = new Mlp(s.model.spec, Float32Array);
    m32.params.set(s.model.params);
    const p32 = new Pass(m32, 7, 'blocked');
    const X32 = Float32Array.from(s.X);
    p32.forward(7, X32);
    const b32: OutputBatch = { ...s.batch, Y: p32.Y, Z: p32.logits, D: Float32Array.from(s.batch.D) };
    new Objective(s.objective.spec, m32, p32).backward(p32, b32);
    // float32 has a 6e-8 unit roundoff; sums over ~20 terms of O(1) values stay within 1e-5.
    expectClose(p32.grads, s.pass.grads, { atol: 1e-5, rtol: 1e-4 }, 'float32 grads');
  });
});

describe('initialisation', () => {
  it("'prior' starts every sigmoid output at 1/K when the weights give zero logits; other biases stay 0", () => {
    for (const K of [2, 10, 26]) {
      const model = new Mlp({ layers: [5, 4, K], hidden: 'sigmoid', output: 'sigmoid' }, Float64Array);
      model.init('glorot_uniform', 1, 'prior');
      for (let k = 0; k < K; k++) expect(1 / (1 + Math.exp(-model.b[1][k]))).toBeCloseTo(1 / K, 14);
      expect(Array.from(model.b[0])).toEqual([0, 0, 0, 0]);
    }
  });

  it("'prior' leaves softmax biases at 0 (already uniform), 'zero' leaves all at 0; weights do not depend on it", () => {
    const a = new Mlp({ layers: [6, 5, 10], hidden: 'tanh', output: 'softmax' });
    a.init('he_normal', 9, 'prior');
    expect(a.b.every((b) => b.every((v) => v === 0))).toBe(true);
    const b = new Mlp({ layers: [6, 5, 10], hidden: 'tanh', output: 'sigmoid' });
    b.init('he_normal', 9, 'zero');
    expect(b.b.every((v) => v.every((x) => x === 0))).toBe(true);
    expect(Array.from(b.W[0])).toEqual(Array.from(a.W[0]));
  });
});
