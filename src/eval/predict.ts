// Class probabilities of single samples (mlp-predict).
import type { KernelName } from '../config/schema.js';
import type { Mlp } from '../model/mlp.js';
import { Pass } from '../model/pass.js';

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
export function predict(model: Mlp, X: Float32Array, n: number, kernel: KernelName): Prediction[] {
  const O = model.outputs;
  const Y = new Pass(model, n, kernel, false).forward(n, X);
  const out: Prediction[] = [];
  for (let i = 0; i < n; i++) {
    const y = Array.from(Y.subarray(i * O, (i + 1) * O));
    const sum = y.reduce((s, v) => s + v, 0);
    const probabilities = model.spec.output === 'softmax' || sum === 0 ? y : y.map((v) => v / sum);
    let predicted = 0;
    for (let j = 1; j < O; j++) if (y[j] > y[predicted]) predicted = j;
    out.push({ predicted, probabilities });
  }
  return out;
}
