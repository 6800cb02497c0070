// Scoring a model on a dataset: accuracy, mean data loss, confusion matrix and
// per-class precision/recall. Shared by the trainer (validation, final test)
// and mlp-eval.
import type { KernelName, LossName } from '../config/schema.js';
import { Batcher } from '../data/batches.js';
import type { Dataset } from '../data/mnist.js';
import type { Mlp } from '../model/mlp.js';
import { Pass } from '../model/pass.js';
import { oneHot, type OutputBatch } from '../objective/batch.js';
import { crossEntropy, mse } from '../objective/losses.js';

/** Rows scored at a time: the evaluation pass's buffers hold this many. */
export const EVAL_CHUNK = 1000;

export interface ClassFigures {
  digit: number; // the class index
  name: string; // what the class is called (data.preset: 'Sneaker', 'a'; the index as text by default)
  precision: number; // TP / predicted as this class (0 when nothing was)
  recall: number; // TP / samples of this class (0 when there are none)
  support: number; // samples of this class
}

export interface Evaluation {
  n: number;
  accuracy: number; // fraction in [0, 1]
  loss: number; // mean over samples of the data term (1/2 Σ_j (y-d)^2, or -Σ_j d log y)
  confusion: number[][]; // [true][predicted]
  per_class: ClassFigures[];
}

/** Index of the largest of O values from `offset` (first one on ties). */
export function argmax(Y: ArrayLike<number>, offset: number, O: number): number {
  let best = 0;
  let max = Y[offset];
  for (let j = 1; j < O; j++) {
    if (Y[offset + j] > max) {
      max = Y[offset + j];
      best = j;
    }
  }
  return best;
}

/**
 * A reusable evaluator: its buffers (a forward-only pass of `chunk` rows and a
 * batcher over `ds`) are allocated once, so the trainer can call it every epoch.
 */
export class Evaluator {
  private readonly model: Mlp;
  private readonly loss: LossName;
  private readonly batcher: Batcher;
  private readonly pass: Pass;
  private readonly D: Float32Array;

  constructor(model: Mlp, ds: Dataset, loss: LossName, chunk: number, kernel: KernelName) {
    this.model = model;
    this.loss = loss;
    this.pass = new Pass(model, Batcher.rows(ds, chunk), kernel, false);
    this.batcher = new Batcher(ds, chunk, this.pass.X);
    this.D = new Float32Array(this.batcher.size * model.outputs);
  }

  /**
   * Scores the whole dataset; `predicted` [n], if given, receives each
   * sample's predicted class (Int32Array: a model may have more than 256 outputs).
   */
  run(predicted?: Int32Array): Evaluation {
    const { model, batcher, pass, D } = this;
    const O = model.outputs;
    const confusion = Array.from({ length: O }, () => new Array<number>(O).fill(0));
    let lossSum = 0;
    let correct = 0;
    for (let k = 0; k < batcher.count; k++) {
      const n = batcher.load(k);
      const Y = pass.forward(n);
      oneHot(D, batcher.labels, n, O);
      const b: OutputBatch = { n, O, Y, Z: pass.logits, D, labels: batcher.labels };
      lossSum += this.loss === 'mse' ? mse.value(b) : crossEntropy.value(b);
      for (let i = 0; i < n; i++) {
        const t = batcher.labels[i];
        const p = argmax(Y, i * O, O);
        if (predicted) predicted[k * batcher.size + i] = p;
        confusion[t][p] += 1;
        if (p === t) correct += 1;
      }
    }
    const n = batcher.ds.n;
    return { n, accuracy: correct / n, loss: lossSum / n, confusion, per_class: classFigures(confusion, batcher.ds.classes) };
  }
}

/** Precision and recall per class; `names` (Dataset.classes) name them, else their indices do. */
export function classFigures(confusion: number[][], names?: readonly string[]): ClassFigures[] {
  const O = confusion.length;
  return confusion.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((s, v) => s + v, 0);
    let predicted = 0;
    for (let t = 0; t < O; t++) predicted += confusion[t][c];
    return {
      digit: c,
      name: names?.[c] ?? String(c),
      precision: predicted > 0 ? tp / predicted : 0,
      recall: support > 0 ? tp / support : 0,
      support,
    };
  });
}

export function evaluate(model: Mlp, ds: Dataset, loss: LossName, kernel: KernelName, predicted?: Int32Array): Evaluation {
  return new Evaluator(model, ds, loss, EVAL_CHUNK, kernel).run(predicted);
}
