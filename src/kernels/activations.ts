// Activations as forward/backward pairs, outputs first.
// Backward reads what forward saved: the derivatives of sigmoid, tanh, relu
// and softmax are written in terms of the stored output A, so no second exp
// is taken; softplus and maxout read the stored Z (see each).
//
// N = rows, O = columns (units); arrays are row-major [N, O], length >= N*O,
// but a maxout of k pieces, whose Z and dZ are [N, O k].
//   forward:  A = f(Z)
//   backward: dZ = f'(Z) ⊙ dA        (softmax: the Jacobian-vector product per row; maxout: dA routed to the winner)
import type { Vec } from './matmul.js';

export type ActivationName = 'sigmoid' | 'tanh' | 'relu' | 'softplus' | 'softmax';

// sigmoid: a = 1 / (1 + e^-z),  da/dz = a (1 - a)
export function sigmoidForward(A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) A[i] = 1 / (1 + Math.exp(-Z[i]));
}
export function sigmoidBackward(dZ: Vec, dA: Vec, A: Vec, _Z: Vec, N: number, O: number): void {
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
export function tanhBackward(dZ: Vec, dA: Vec, A: Vec, _Z: Vec, N: number, O: number): void {
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
export function reluBackward(dZ: Vec, dA: Vec, A: Vec, _Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) dZ[i] = A[i] > 0 ? dA[i] : 0;
}

// softplus: a = ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|): the exponent is never
// positive, so nothing overflows, and log1p keeps ln(1 + w) exact for small w
// (a ~ e^z for z << 0, a ~ z + e^-z for z >> 0).
//   da/dz = e^z / (1 + e^z) = sigmoid(z)
// read from the stored Z: from A it is 1 - e^-a, which loses its relative
// accuracy in float32 as a -> 0 (1 - e^-a cancels), where sigmoid(z) keeps it.
export function softplusForward(A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) {
    const z = Z[i];
    A[i] = (z > 0 ? z : 0) + Math.log1p(Math.exp(-Math.abs(z)));
  }
}
export function softplusBackward(dZ: Vec, dA: Vec, _A: Vec, Z: Vec, N: number, O: number): void {
  const len = N * O;
  for (let i = 0; i < len; i++) dZ[i] = dA[i] / (1 + Math.exp(-Z[i]));
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
export function softmaxBackward(dZ: Vec, dA: Vec, A: Vec, _Z: Vec, N: number, O: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * O;
    let dot = 0;
    for (let j = 0; j < O; j++) dot += dA[row + j] * A[row + j];
    for (let k = 0; k < O; k++) dZ[row + k] = A[row + k] * (dA[row + k] - dot);
  }
}

// maxout of k pieces (Goodfellow et al. 2013), O units: Z [N, O k], pieces fastest
// (PyTorch: Linear(I, O k), then .view(N, O, k).max(-1)):
//   a[n, h] = max_j z[n, h k + j],  j = 0..k-1
//   dz[n, h k + j] = da[n, h] for the winning piece j, 0 for the others
// The winner is the first maximum (the lowest j on ties, as torch.max's
// index). Backward finds it again as the first piece equal to the stored a,
// which is exact: a is a copy of that z. A NaN piece makes a NaN (as in
// torch.max), and then no piece gets dz.
export function maxoutForward(A: Vec, Z: Vec, N: number, O: number, k: number): void {
  const units = N * O;
  for (let u = 0; u < units; u++) {
    const p = u * k;
    let max = Z[p];
    for (let j = 1; j < k; j++) {
      const z = Z[p + j];
      if (z > max || z !== z) max = z; // a tie keeps the first; once NaN, NaN
    }
    A[u] = max;
  }
}
export function maxoutBackward(dZ: Vec, dA: Vec, A: Vec, Z: Vec, N: number, O: number, k: number): void {
  const units = N * O;
  for (let u = 0; u < units; u++) {
    const p = u * k;
    let routed = false;
    for (let j = 0; j < k; j++) {
      const winner: boolean = !routed && Z[p + j] === A[u];
      dZ[p + j] = winner ? dA[u] : 0;
      routed ||= winner;
    }
  }
}

/** Forward and backward of one activation on O units (maxout: Z and dZ have O k columns). */
export interface ActivationKernels {
  forward(A: Vec, Z: Vec, N: number, O: number): void;
  backward(dZ: Vec, dA: Vec, A: Vec, Z: Vec, N: number, O: number): void;
}

export const ACTIVATIONS: Record<ActivationName, ActivationKernels> = {
  sigmoid: { forward: sigmoidForward, backward: sigmoidBackward },
  tanh: { forward: tanhForward, backward: tanhBackward },
  relu: { forward: reluForward, backward: reluBackward },
  softplus: { forward: softplusForward, backward: softplusBackward },
  softmax: { forward: softmaxForward, backward: softmaxBackward },
};

/** The maxout kernels for k pieces. */
export function maxout(k: number): ActivationKernels {
  return {
    forward: (A, Z, N, O) => maxoutForward(A, Z, N, O, k),
    backward: (dZ, dA, A, Z, N, O) => maxoutBackward(dZ, dA, A, Z, N, O, k),
  };
}
