// Dropout in the training passes (src/model/dropout.ts): the gradient is the
// gradient of the masked network (float64 central differences with the masks
// of one step held fixed), evaluation and step 0 use no mask, the masks are
// keyed by (seed, step, slot) alone and are the same bits on 1 and 2 threads,
// and the fast pass drops the same elements as the reference.
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { Dataset } from '../../src/data/mnist.js';
import { maskHash } from '../../src/kernels/dropout.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { Dropout, NO_PASS_REGULARIZATION, type PassRegularization } from '../../src/model/dropout.js';
import { Mlp, type HiddenActivation, type OutputActivation } from '../../src/model/mlp.js';
import type { SgdSettings } from '../../src/model/optimizer.js';
import { Pass } from '../../src/model/pass.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import type { OutputBatch } from '../../src/objective/batch.js';
import { Objective, type LossName } from '../../src/objective/objective.js';
import { Trainer } from '../../src/train/trainer.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';
import { expectSameBitsOnThreads } from '../helpers/threads.js';

const rt = wasmRuntime().runtime!;
const PLAIN: SgdSettings = { name: 'sgd', momentum: 0 };
const MOMENTUM: SgdSettings = { name: 'sgd', momentum: 0.9 };
const dropout = (input: number, hidden: number, seed = 7): PassRegularization => ({ ...NO_PASS_REGULARIZATION, dropout: { input, hidden }, seed });
// float64 central differences of an O(1) objective (as test/model/mlp.test.ts): errors around 1e-10
const TOL = { atol: 1e-7, rtol: 1e-5 };

describe('the gradient with dropout is that of the masked network', () => {
  const ARCHS: Array<[HiddenActivation, OutputActivation, LossName]> = [
    ['sigmoid', 'sigmoid', 'mse'],
    ['tanh', 'softmax', 'cross_entropy'],
    ['relu', 'softmax', 'cross_entropy'],
  ];
  it.each(ARCHS)('%s/%s/%s, layers 6-5-4-3, input 0.3, hidden 0.5: central differences with the masks of step 3 fixed', (hidden, output, loss) => {
    const model = new Mlp({ layers: [6, 5, 4, 3], hidden, output }, Float64Array);
    model.init('glorot_uniform', 42, 'zero');
    for (const b of model.b) b.set(randomArray(b.length, b.length + 3, -0.5, 0.5));
    const n = 7;
    const X = randomArray(n * 6, 9, -1, 1);
    const labels = Uint8Array.from([0, 1, 2, 2, 0, 1, 1]);
    const D = new Float64Array(n * 3);
    labels.forEach((c, i) => (D[i * 3 + c] = 1));
    const pass = new Pass(model, n, 'naive', true, PLAIN, dropout(0.3, 0.5));
    const batch: OutputBatch = { n, O: 3, Y: pass.Y, Z: pass.logits, D, labels };
    const objective = new Objective({ loss, gamma: 0, lambda: 0 }, model, pass);
    const E = (): number => {
      pass.forward(n, X);
      return objective.values(batch).total;
    };
    pass.useMasks(3);
    const numeric = centralDiff(E, model.params as Float64Array);
    E();
    pass.grads.fill(NaN);
    objective.backward(pass, batch);
    expectClose(pass.grads, numeric, TOL, 'dE/dparams of the masked network');
    // the masks dropped inputs and hidden outputs (else this would test nothing) and kept others
    const d = pass.dropout!;
    const zeros = (a: ArrayLike<number>, len: number): number => Array.from(a).slice(0, len).filter((x) => x === 0).length;
    expect(zeros(d.Xd!, n * 6)).toBeGreaterThan(3);
    expect(zeros(d.Xd!, n * 6)).toBeLessThan(n * 6 - 3);
    expect(zeros(d.Ad[0]!, n * 5)).toBeGreaterThan(3);
    expect(zeros(d.Ad[1]!, n * 4)).toBeGreaterThan(3);
    expect(d.Ad[2]).toBeNull(); // the output layer is never dropped
    // and the unmasked network's gradient is a different one: the check above can fail
    pass.useMasks(0);
    const plain = centralDiff(E, model.params as Float64Array);
    let far = 0;
    for (let j = 0; j < plain.length; j++) if (Math.abs(plain[j] - numeric[j]) > 100 * (TOL.atol + TOL.rtol * Math.abs(numeric[j]))) far++;
    expect(far).toBeGreaterThan(plain.length / 4);
  });
});

describe('the masks', () => {
  const model = new Mlp({ layers: [784, 300, 100, 10], hidden: 'sigmoid', output: 'softmax' });
  model.init('glorot_uniform', 5, 'zero');
  const n = 64;
  const X = Float32Array.from({ length: n * 784 }, (_, j) => (j % 5 === 0 ? 0 : ((j * 7919) % 255) / 255));

  it('step 0 and evaluation use none: the forward of a pass at step 0 is the plain forward, bit for bit', () => {
    const plain = new Pass(model, n, 'blocked', false);
    const Y0 = plain.forward(n, X).slice();
    const wp = new WasmPass(model, rt, { capacity: n, optimizer: PLAIN, regularization: dropout(0.2, 0.5) });
    wp.load(model.params, { velocity: new Float32Array(model.params.length) });
    const ref = new Pass(model, n, 'blocked', true, PLAIN, dropout(0.2, 0.5));
    for (const t of [0, 9]) {
      wp.useMasks(t);
      ref.useMasks(t);
      wp.X.set(X);
      const fast = wp.forward(n).subarray(0, n * 10);
      const slow = ref.forward(n, X).subarray(0, n * 10);
      const plainFast = new WasmPass(model, rt, { capacity: n, optimizer: PLAIN });
      plainFast.load(model.params, { velocity: new Float32Array(model.params.length) });
      plainFast.X.set(X);
      const same = (a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean => Buffer.from(a.slice().buffer).equals(Buffer.from(b.slice().buffer));
      expect(same(slow, Y0.subarray(0, n * 10)), `reference pass, step ${t}`).toBe(t === 0);
      expect(same(fast, plainFast.forward(n).subarray(0, n * 10)), `fast pass, step ${t}`).toBe(t === 0);
      plainFast.dispose();
    }
    wp.dispose();
  });

  it('are keyed by (seed, step, slot): the same for another instance, independent across steps, slots and seeds', () => {
    const keyOf = (seed: number, t: number, slot: number): { k1: number; k2: number; threshold: number } => {
      const d = Dropout.of(model, 1, dropout(0.5, 0.5, seed), { run: () => {}, alloc: (f) => new Float32Array(f), inPlaceInput: false })!;
      d.setStep(t);
      return { ...d.key(slot) };
    };
    expect(keyOf(3, 10, 1)).toEqual(keyOf(3, 10, 1));
    const base = keyOf(3, 10, 1);
    const M = 1 << 16;
    for (const [label, other] of [['step + 1', keyOf(3, 11, 1)], ['slot + 1', keyOf(3, 10, 2)], ['seed + 1', keyOf(4, 10, 1)]] as const) {
      let same = 0;
      for (let j = 0; j < M; j++) if (maskHash(j, base.k1, base.k2) >= base.threshold === maskHash(j, other.k1, other.k2) >= other.threshold) same++;
      // p = 0.5: agreement 1/2, binomial sd sqrt(M / 4); 5 sd
      expect(Math.abs(same - M / 2), label).toBeLessThanOrEqual(5 * Math.sqrt(M / 4));
    }
  });

  it('give the same bits on 1 and 2 threads: dropped input and hidden outputs, gradients, the step', () => {
    const run = (threads: number): Float32Array[] => {
      rt.setThreads(threads);
      const wp = new WasmPass(model, rt, { capacity: n, optimizer: MOMENTUM, regularization: { ...dropout(0.2, 0.5), maxNorm: 0.5 } });
      wp.load(model.params, { velocity: new Float32Array(model.params.length) });
      wp.useMasks(17);
      wp.X.set(X);
      wp.forward(n);
      for (let i = 0; i < n * 10; i++) wp.dY[i] = wp.Y[i] - (i % 10 === (i / 10) % 10 ? 1 : 0);
      wp.backwardOutput();
      wp.backwardLayers();
      const out = [wp.X.slice(0, n * 784), wp.dropout!.Ad[0]!.slice(0, n * 300), wp.dropout!.Ad[1]!.slice(0, n * 100), wp.Y.slice(0, n * 10), wp.grads.slice()];
      wp.step({ lr: 0.5, d: n, t: 17, loss: 0 });
      out.push(wp.params.slice());
      wp.dispose();
      return out;
    };
    expectSameBitsOnThreads((t) => rt.setThreads(t), run);
  });

  it('the fast pass drops the elements the reference drops, and its values agree within float32 sums', () => {
    const reg = dropout(0.2, 0.5);
    const m64 = new Mlp(model.spec, Float64Array);
    m64.params.set(model.params);
    const ref = new Pass(m64, n, 'blocked', true, PLAIN, reg);
    const wp = new WasmPass(model, rt, { capacity: n, optimizer: PLAIN, regularization: reg });
    wp.load(model.params, { velocity: new Float32Array(model.params.length) });
    ref.useMasks(5);
    wp.useMasks(5);
    ref.forward(n, Float64Array.from(X));
    wp.X.set(X);
    wp.forward(n);
    const zerosOf = (a: ArrayLike<number>, len: number): number[] => Array.from(a).slice(0, len).flatMap((x, j) => (x === 0 ? [j] : []));
    // sigmoid outputs are never 0: a zero of the dropped copy is a dropped unit
    expect(zerosOf(wp.X, n * 784)).toEqual(zerosOf(ref.dropout!.Xd!, n * 784));
    expect(zerosOf(wp.dropout!.Ad[0]!, n * 300)).toEqual(zerosOf(ref.dropout!.Ad[0]!, n * 300));
    expect(zerosOf(wp.dropout!.Ad[1]!, n * 100)).toEqual(zerosOf(ref.dropout!.Ad[1]!, n * 100));
    const dropped = zerosOf(ref.dropout!.Ad[0]!, n * 300).length / (n * 300);
    expect(Math.abs(dropped - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / (n * 300)));
    // relative to the largest value, as test/model/wasm-pass.test.ts (float32 sums of up to 784 terms)
    const scale = Math.max(...Array.from(ref.Y.subarray(0, n * 10)).map(Math.abs));
    expectClose(wp.Y.subarray(0, n * 10), ref.Y.subarray(0, n * 10), { atol: 2e-5 * scale, rtol: 0 }, 'Y');
    wp.dispose();
  });
});

describe('evaluation', () => {
  /** n random 4x4 "images" of 3 classes (as test/output/checkpoint.test.ts). */
  function dataset(n: number, shift: number): Dataset {
    const images = new Uint8Array(n * 16);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = (i + shift) % 3;
      for (let f = 0; f < 16; f++) images[i * 16 + f] = ((i + shift) * 37 + f * 11 + labels[i] * 50 + ((i * i) % 41)) & 0xff;
    }
    return { name: 'train', n, features: 16, images, labels };
  }

  it('a forward-only pass (the Evaluator\'s) never drops, whatever the regularization', () => {
    const model = new Mlp({ layers: [16, 8, 3], hidden: 'sigmoid', output: 'sigmoid' });
    expect(new Pass(model, 4, 'naive', false, PLAIN, dropout(0.5, 0.5)).dropout).toBeNull();
    expect(new Pass(model, 4, 'naive', true, PLAIN, dropout(0.5, 0.5)).dropout).not.toBeNull();
  });

  it.each(['wasm', 'blocked'] as const)('a run with dropout reports the validation accuracy of the unmasked network on its final weights (%s)', async (kernel) => {
    const cfg = ConfigSchema.parse({
      model: { layers: [16, 8, 3], seed: 4 },
      regularization: { dropout: { input: 0.2, hidden: 0.5 } },
      training: { epochs: 3, batch_size: 7, lr: 0.5, kernel },
    });
    const model = new Mlp(cfg.model);
    model.init(cfg.model.init, cfg.model.seed, cfg.model.output_bias);
    const validation = dataset(40, 1);
    const result = await new Trainer(cfg, model, dataset(60, 0), validation).run();
    const last = result.metrics[result.metrics.length - 1];
    // the plain network by hand: a float64 forward, argmax against the labels
    const m64 = new Mlp(model.spec, Float64Array);
    m64.params.set(model.params);
    const X = Float64Array.from(validation.images, (v) => v / 255);
    const Y = new Pass(m64, 40, 'naive', false).forward(40, X);
    let correct = 0;
    for (let i = 0; i < 40; i++) {
      const row = Array.from(Y.subarray(3 * i, 3 * i + 3));
      if (row.indexOf(Math.max(...row)) === validation.labels[i]) correct++;
    }
    expect(last.val_accuracy).toBe(correct / 40);
    expect(correct).toBeGreaterThan(13); // the net learned something (chance: 40/3)
  });
});
