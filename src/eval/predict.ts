// Class probabilities of single samples (mlp-predict) and of a whole dataset
// (mlp-eval --predictions), and a cheap check of how far an input lies from
// MNIST's digits (mlp-predict's warning).
import type { KernelName, OutputActivation } from '../config/schema.js';
import { Batcher } from '../data/batches.js';
import type { Dataset } from '../data/mnist.js';
import type { Mlp } from '../model/mlp.js';
import { Pass } from '../model/pass.js';
import { argmax, EVAL_CHUNK } from './evaluate.js';

export interface Prediction {
  predicted: number; // the most probable class (argmax of the outputs, as mlp-eval scores)
  probabilities: number[]; // per class, summing to 1
}

/**
 * Softmax outputs are probabilities already. Sigmoid outputs trained with
 * one-hot targets estimate each class's probability separately (squared error
 * and cross-entropy are both minimized by y_j = P(j | x)), so they are
 * normalized to sum to 1; the order, and so the predicted class, is unchanged.
 */
function prediction(Y: ArrayLike<number>, offset: number, O: number, output: OutputActivation): Prediction {
  const y = Array.from({ length: O }, (_, j) => Y[offset + j]);
  const sum = y.reduce((s, v) => s + v, 0);
  const probabilities = output === 'softmax' || sum === 0 ? y : y.map((v) => v / sum);
  return { predicted: argmax(Y, offset, O), probabilities };
}

export function predict(model: Mlp, X: Float32Array, n: number, kernel: KernelName): Prediction[] {
  const O = model.outputs;
  const Y = new Pass(model, n, kernel, false).forward(n, X);
  return Array.from({ length: n }, (_, i) => prediction(Y, i * O, O, model.spec.output));
}

/**
 * Every sample of `ds` in file order, `onRow(index, prediction)` for each. The
 * same chunks, batcher and kernel as mlp-eval's Evaluator, so the predicted
 * classes are the ones its confusion matrix counts.
 */
export function predictDataset(model: Mlp, ds: Dataset, kernel: KernelName, onRow: (index: number, p: Prediction) => void): void {
  const O = model.outputs;
  const pass = new Pass(model, Batcher.rows(ds, EVAL_CHUNK), kernel, false);
  const batcher = new Batcher(ds, EVAL_CHUNK, pass.X);
  for (let k = 0; k < batcher.count; k++) {
    const n = batcher.load(k);
    const Y = pass.forward(n);
    for (let i = 0; i < n; i++) onRow(k * batcher.size + i, prediction(Y, i * O, O, model.spec.output));
  }
}

/**
 * How unlike an MNIST digit a 28x28 input in [0, 1] is, by two pixel counts:
 * `faint`, the fraction of pixels with a little ink (0 < v < 0.5), and `inked`,
 * the fraction with any ink (v > 0). MNIST digits are strokes: no training
 * digit has more faint or inked pixels than MNIST_TRAIN_MAX (medians 6.1% and
 * 19.1%; test/eval/predict.test.ts recounts them); noise put through
 * mlp-predict's preprocessing has 26-51% faint and 39-51% inked. Above either
 * limit (a margin over the maxima) the input is far from anything the network
 * was trained on, and its prediction says little.
 */
export const MNIST_TRAIN_MAX = { faint: 0.1212, inked: 0.4477 };
export const FAINT_LIMIT = 0.15;
export const INKED_LIMIT = 0.5;

export interface Typicality {
  faint: number;
  inked: number;
  far: boolean; // faint > FAINT_LIMIT or inked > INKED_LIMIT
}

export function typicality(x: ArrayLike<number>): Typicality {
  let faint = 0;
  let inked = 0;
  for (let p = 0; p < x.length; p++) {
    if (x[p] > 0) inked++;
    if (x[p] > 0 && x[p] < 0.5) faint++;
  }
  const t = { faint: faint / x.length, inked: inked / x.length };
  return { ...t, far: t.faint > FAINT_LIMIT || t.inked > INKED_LIMIT };
}
