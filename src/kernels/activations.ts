// Element-wise activations as forward/backward pairs, outputs first.
// Backward reads what forward saved: every derivative here is written in terms
// of the stored output A, so no second exp is taken.
//
// N = rows, O = columns (units); arrays are row-major [N, O], length >= N*O.
//   forward:  A = f(Z)
//   backward: dZ = f'(Z) ⊙ dA        (softmax: the Jacobian-vector product per row)
import type { Vec } from './matmul.js';

export type ActivationName = 'sigmoid' | 'tanh' | 'relu' | 'softmax';

// sigmoid: a = 1 / (1 + e^-z),  da/dz = a (1 - a)
export function sigmoidForward(A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) A[i] = 1 / (1 + Math.exp(-Z[i]));
}
export function sigmoidBackward(dZ: Vec, dA: Vec, A: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) {
    const a = A[i];
    dZ[i] = dA[i] * a * (1 - a);
  }
}

// tanh: a = tanh z,  da/dz = 1 - a^2
export function tanhForward(A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) A[i] = Math.tanh(Z[i]);
}
export function tanhBackward(dZ: Vec, dA: Vec, A: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) {
    const a = A[i];
    dZ[i] = dA[i] * (1 - a * a);
  }
}

// relu: a = max(0, z),  da/dz = [a > 0]  (the subgradient 0 is taken at z = 0)
export function reluForward(A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) {
    const z = Z[i];
    A[i] = z > 0 ? z : 0;
  }
}
export function reluBackward(dZ: Vec, dA: Vec, A: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) dZ[i] = A[i] > 0 ? dA[i] : 0;
}

// softmax per row: a_j = e^(z_j - max z) / Σ_k e^(z_k - max z)
// Its Jacobian is da_j/dz_k = a_j (δ_jk - a_k), so the backward product is
//   dz_k = Σ_j dA_j a_j (δ_jk - a_k) = a_k (dA_k - Σ_j dA_j a_j).
export function softmaxForward(A: Vec, Z: Vec, N: number, O: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * O;
    let max = -Infinity;
    for (let j = 0; j < O; j++) if (Z[row + j] > max) max = Z[row + j];
    let sum = 0;
    for (let j = 0; j < O; j++) {
      const e = Math.exp(Z[row + j] - max);
      A[row + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < O; j++) A[row + j] *= inv;
  }
}
export function softmaxBackward(dZ: Vec, dA: Vec, A: Vec, N: number, O: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * O;
    let dot = 0;
    for (let j = 0; j < O; j++) dot += dA[row + j] * A[row + j];
    for (let k = 0; k < O; k++) dZ[row + k] = A[row + k] * (dA[row + k] - dot);
  }
}

export interface ActivationKernels {
  forward(A: Vec, Z: Vec, N: number, O: number): void;
  backward(dZ: Vec, dA: Vec, A: Vec, N: number, O: number): void;
}

export const ACTIVATIONS: Record<ActivationName, ActivationKernels> = {
  sigmoid: { forward: sigmoidForward, backward: sigmoidBackward },
  tanh: { forward: tanhForward, backward: tanhBackward },
  relu: { forward: reluForward, backward: reluBackward },
  softmax: { forward: softmaxForward, backward: softmaxBackward },
};
