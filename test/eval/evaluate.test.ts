// Evaluator.run's per-sample predictions hold any class index: a model with
// 300 outputs predicts class 271, which a byte would have stored as 15.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/mnist.js';
import { EVAL_CHUNK, Evaluator, evaluate } from '../../src/eval/evaluate.js';
import { Mlp } from '../../src/model/mlp.js';

/** n blank 28x28 images with the given labels. */
function blank(labels: number[]): Dataset {
  return { name: 'test', n: labels.length, features: 784, images: new Uint8Array(labels.length * 784), labels: Uint8Array.from(labels) };
}

/** A 784-2-O sigmoid model whose every output is 0.5 but output `k`'s (sigmoid(5)): it predicts k for any input. */
function predicting(k: number, O: number): Mlp {
  const model = new Mlp({ layers: [784, 2, O], hidden: 'sigmoid', output: 'sigmoid' });
  model.b[1][k] = 5;
  return model;
}

describe('Evaluator.run(predicted)', () => {
  it('stores predicted classes past 255 as they are (271, not 271 mod 256 = 15)', () => {
    const ds = blank([3, 7, 200]);
    const predicted = new Int32Array(ds.n).fill(-1);
    const e = new Evaluator(predicting(271, 300), ds, 'mse', EVAL_CHUNK, 'blocked').run(predicted);
    expect([...predicted]).toEqual([271, 271, 271]);
    expect(e.accuracy).toBe(0);
    expect(e.confusion).toHaveLength(300);
    expect([e.confusion[3][271], e.confusion[7][271], e.confusion[200][271], e.confusion[3][15]]).toEqual([1, 1, 1, 0]);
    expect(e.per_class[271]).toEqual({ digit: 271, name: '271', precision: 0, recall: 0, support: 0 });
  });

  it('fills every sample across chunks, and evaluate() passes the array through', () => {
    const ds = blank(Array.from({ length: 2500 }, (_, i) => i % 10)); // 3 chunks of EVAL_CHUNK = 1000
    const predicted = new Int32Array(ds.n).fill(-1);
    const e = evaluate(predicting(4, 10), ds, 'mse', 'blocked', predicted);
    expect(predicted.every((p) => p === 4)).toBe(true);
    expect(e.accuracy).toBe(0.1);
  });
});
