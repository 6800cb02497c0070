// What every objective term sees of a batch: the network's outputs and the targets.
import type { Vec } from '../kernels/matmul.js';

// n = rows of the batch, O = output units; all row-major.
export interface OutputBatch {
  n: number;
  O: number;
  Y: Vec; // [n, O] output activations
  Z: Vec; // [n, O] output pre-activations (logits)
  D: Vec; // [n, O] targets d (one-hot rows for labelled data)
  labels: Uint8Array | null; // [n] class of each row, when known (the discriminative term needs them)
}

/** D[n, O] = one-hot rows of labels[0..n). */
export function oneHot(D: Vec, labels: Uint8Array, n: number, O: number): void {
  D.fill(0, 0, n * O);
  for (let i = 0; i < n; i++) D[i * O + labels[i]] = 1;
}
